/**
 * The modules a bench run measures: bundled synthetic ones, third-party ones
 * from the devDependencies (skipped with a note when not installed), and
 * paths given by the user. Everything is read and checked before the first
 * measurement, so a bad path fails in a second, not after a minute of work.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { CowpoolError } from '../errors.js';
import { closestName } from '../config/closest-name.js';
import { prepareLayout } from '../wasm/prepare-layout.js';
import type { PreparedLayout } from '../wasm/prepared-layout.js';
import { BUNDLED_MODULES, type BundledModuleName } from './bench-config-schema.js';
import { describeSyntheticModule, SYNTHETIC_MODULES, syntheticModule, type SyntheticModuleName } from './synthetic-modules.js';

export interface BenchModule {
  /** Short name for tables and charts. */
  name: string;
  source: 'synthetic' | 'dependency' | 'path';
  /** Where the bytes came from: `generated`, a package path (`sql.js/dist/sql-wasm.wasm`), or the file path given. */
  origin: string;
  description: string;
  bytes: Uint8Array;
  /** The layout of the original bytes (what the pool would do with them). */
  layout: PreparedLayout;
}

export interface SkippedModule {
  name: string;
  reason: string;
}

type DependencyModuleName = Exclude<BundledModuleName, SyntheticModuleName>;

/** Third-party modules: package subpath of the .wasm, and what it is. */
const DEPENDENCY_MODULES: Readonly<Record<DependencyModuleName, { specifier: string; description: string }>> = {
  'sql.js': { specifier: 'sql.js/dist/sql-wasm.wasm', description: 'SQLite compiled by Emscripten (sql.js)' },
  quickjs: { specifier: '@jitl/quickjs-wasmfile-release-sync/wasm', description: 'QuickJS compiled by Emscripten, memory imported (@jitl/quickjs-wasmfile-release-sync)' },
};

const requireHere = createRequire(import.meta.url);

function isSynthetic(name: string): name is SyntheticModuleName {
  return (SYNTHETIC_MODULES as readonly string[]).includes(name);
}

function isDependency(name: string): name is DependencyModuleName {
  return (BUNDLED_MODULES as readonly string[]).includes(name) && !isSynthetic(name);
}

/** Reads and parses a module file. @throws BENCH_INPUT when unreadable, INVALID_WASM when malformed. */
function readModuleFile(path: string, label: string): { bytes: Uint8Array; layout: PreparedLayout } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    const guess = closestName(basename(path), BUNDLED_MODULES);
    const hint = code === 'ENOENT'
      ? (guess === undefined ? 'check the path' : `check the path, or did you mean the bundled module ${JSON.stringify(guess)}?`)
      : code === 'EISDIR' ? 'pass a .wasm file, not a directory' : 'check its permissions';
    throw new CowpoolError('BENCH_INPUT', `${label}: cannot read ${path} (${code}) — ${hint}`, { cause });
  }
  return { bytes, layout: parseChecked(bytes, label) };
}

/** The layout of `bytes`, with the module name in front of any INVALID_WASM message; V8 must accept it too. */
function parseChecked(bytes: Uint8Array, label: string): PreparedLayout {
  let layout: PreparedLayout;
  try {
    layout = prepareLayout(bytes);
  } catch (e) {
    if (e instanceof CowpoolError) {
      throw new CowpoolError(e.code, `${label}: ${e.message}`, { cause: e, ...(e.offset === undefined ? {} : { offset: e.offset }) });
    }
    throw e;
  }
  try {
    // Compiling here, once, turns a module V8 refuses into an input error now instead of an unavailable row later.
    new WebAssembly.Module(bytes);
  } catch (cause) {
    throw new CowpoolError('INVALID_WASM', `${label}: V8 rejected the module: ${(cause as Error).message} — pass a module Node can compile`, { cause });
  }
  return layout;
}

/**
 * Loads one module reference: a bundled name or a path. Returns a
 * SkippedModule for a dependency module that is not installed.
 * @throws CowpoolError BENCH_INPUT (unreadable file) or INVALID_WASM (malformed bytes).
 */
export function loadBenchModule(ref: string): BenchModule | SkippedModule {
  if (isSynthetic(ref)) {
    const bytes = syntheticModule(ref);
    return { name: ref, source: 'synthetic', origin: 'generated', description: describeSyntheticModule(ref), bytes, layout: parseChecked(bytes, ref) };
  }
  if (isDependency(ref)) {
    const dependency = DEPENDENCY_MODULES[ref];
    let path: string;
    try {
      path = requireHere.resolve(dependency.specifier);
    } catch {
      const pkg = dependency.specifier.startsWith('@') ? dependency.specifier.split('/').slice(0, 2).join('/') : dependency.specifier.split('/')[0];
      return { name: ref, reason: `${pkg} is not installed (a devDependency of cowpool; install it to include this module)` };
    }
    const { bytes, layout } = readModuleFile(path, ref);
    // The package path, not this machine's: reports are compared across machines.
    return { name: ref, source: 'dependency', origin: dependency.specifier, description: dependency.description, bytes, layout };
  }
  const { bytes, layout } = readModuleFile(ref, basename(ref));
  return { name: basename(ref), source: 'path', origin: ref, description: `${bytes.length} bytes from ${ref}`, bytes, layout };
}

export function isSkipped(m: BenchModule | SkippedModule): m is SkippedModule {
  return 'reason' in m;
}

/**
 * Loads every module of a run, in order. A repeated name gets `#2`, `#3`,
 * ... so rows stay distinguishable.
 */
export function loadBenchModules(refs: readonly string[]): { modules: BenchModule[]; skipped: SkippedModule[] } {
  const modules: BenchModule[] = [];
  const skipped: SkippedModule[] = [];
  for (const ref of refs) {
    const loaded = loadBenchModule(ref);
    if (isSkipped(loaded)) skipped.push(loaded);
    else modules.push(loaded);
  }
  const seen = new Map<string, number>();
  for (const m of modules) {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    if (n > 1) m.name = `${m.name}#${n}`;
  }
  return { modules, skipped };
}
