import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every file reachable from `entry` through static imports, and the bare packages it names. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports; `import type` is erased and loads nothing.
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) {
        const ts = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        if (existsSync(ts)) pending.push(ts);
      } else if (!spec.startsWith('node:')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
      }
    }
  }
  return { files, packages };
}

describe('package entry points', () => {
  it("import 'cowpool' loads neither the bench harness nor tinybench", () => {
    const { files, packages } = importGraph(join(root, 'src', 'index.ts'));
    const bench = [...files].filter((f) => f.startsWith(join(root, 'src', 'bench')));
    expect(bench).toEqual([]);
    expect(packages).not.toContain('tinybench');
    // The graph walk itself works: the pool is reached through it.
    expect(files).toContain(join(root, 'src', 'pool', 'instance-pool.ts'));
  });

  it("'cowpool/bench' exports the harness and is declared in package.json", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
    expect(pkg.exports['./bench']?.default).toBe('./dist/bench/index.js');
    const { packages } = importGraph(join(root, 'src', 'bench', 'index.ts'));
    expect(packages).toContain('tinybench');
  });
});
