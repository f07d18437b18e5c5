/**
 * Module hooks that let a child process or a worker thread run the TypeScript
 * sources directly (`node --import ./test/helpers/reliability-ts-register.mjs`):
 * a relative `.js` import with a `.ts` sibling (and no `.js` file) resolves to
 * the `.ts` file, which is transpiled with the project's TypeScript (types
 * stripped, nothing checked). Tests use it so a subprocess always runs the
 * code under test, never a stale dist/.
 *
 * Transpiled output is cached under tmp/ keyed by a hash of the source, so only
 * the first child after an edit pays for loading the compiler. Cache files are
 * written to a temporary name and renamed, so concurrent children never read a
 * half-written file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const cacheDir = fileURLToPath(new URL('../../tmp/reliability-ts-cache/', import.meta.url));
let compiler = null;

export async function resolve(specifier, context, nextResolve) {
  const relative = specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
  if (relative && specifier.endsWith('.js') && context.parentURL !== undefined) {
    const url = new URL(specifier, context.parentURL);
    if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
      const tsUrl = new URL(url.href.replace(/\.js$/, '.ts'));
      if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, format: 'module', shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  const key = createHash('sha256').update(path).update('\0').update(source).digest('hex');
  const cached = `${cacheDir}${key}.js`;
  try {
    return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  } catch {
    // Not cached yet: transpile below.
  }
  compiler ??= (await import('typescript')).default;
  const out = compiler.transpileModule(source, {
    fileName: path,
    compilerOptions: {
      module: compiler.ModuleKind.ESNext,
      target: compiler.ScriptTarget.ES2022,
      inlineSourceMap: true,
      inlineSources: true,
    },
  });
  mkdirSync(cacheDir, { recursive: true });
  const temporary = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(temporary, out.outputText);
  await rename(temporary, cached);
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
