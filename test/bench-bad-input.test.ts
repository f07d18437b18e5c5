/**
 * Bad input to `cowpool bench` — a bad configuration file, an unreadable or
 * malformed module — is refused before anything is measured, with a message
 * naming the field or file at fault, and exit code 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCowpoolError } from '../src/errors.js';
import { runBench } from '../src/bench/run-bench.js';
import { main } from '../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'cowpool-bench-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('cowpool bench with bad input', () => {
  it('names every bad field of a configuration file and exits 2', async () => {
    const config = file('bad.json', JSON.stringify({ timeMs: -5, strategies: ['fresh', 'cwo'], threds: {}, threads: { counts: [0] } }));
    const { code, stdout, stderr } = await run(['bench', '--config', config]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('INVALID_CONFIG');
    expect(stderr).toContain(config);
    expect(stderr).toMatch(/timeMs: must be at least 1/);
    expect(stderr).toMatch(/strategies\[1\]: .*did you mean "cow"\?/);
    expect(stderr).toMatch(/threds: unknown key — did you mean threads\?/);
    expect(stderr).toMatch(/threads\.counts\[0\]: must be at least 1, got 0/);
  });

  it('points at the line and column of a JSON syntax error', async () => {
    const config = file('syntax.json', '{\n  "timeMs": 10,\n  "rounds": ,\n}\n');
    const { code, stderr } = await run(['bench', '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('INVALID_CONFIG');
    expect(stderr).toContain(`${config}:3:`);
  });

  it('refuses a module path that cannot be read, with BENCH_INPUT', async () => {
    const missing = join(dir, 'no-such-module.wasm');
    const { code, stderr } = await run(['bench', '--quick', missing]);
    expect(code).toBe(2);
    expect(stderr).toContain('BENCH_INPUT');
    expect(stderr).toContain(missing);
    expect(stderr).toContain('ENOENT');

    const asDirectory = await run(['bench', '--quick', dir]);
    expect(asDirectory.code).toBe(2);
    expect(asDirectory.stderr).toContain('BENCH_INPUT');
    expect(asDirectory.stderr).toContain('EISDIR');
  });

  it('refuses a malformed module with INVALID_WASM naming the file', async () => {
    const garbage = file('garbage.wasm', Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00));
    const { code, stderr } = await run(['bench', '--quick', garbage]);
    expect(code).toBe(2);
    expect(stderr).toContain('INVALID_WASM');
    expect(stderr).toContain('garbage.wasm');
  });

  it('suggests the bundled name for a misspelt one', async () => {
    const config = file('typo.json', JSON.stringify({ modules: ['sqljs'] }));
    const { code, stderr } = await run(['bench', '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('BENCH_INPUT');
    expect(stderr).toContain('did you mean the bundled module "sql.js"?');
  });

  it('rejects from runBench with a CowpoolError before measuring anything', async () => {
    const error = await runBench({ modules: [join(dir, 'absent.wasm')], timeMs: 1 }).catch((e: unknown) => e);
    expect(isCowpoolError(error, 'BENCH_INPUT')).toBe(true);
    const invalid = await runBench({ timeMs: 'fast' } as never).catch((e: unknown) => e);
    expect(isCowpoolError(invalid, 'INVALID_CONFIG')).toBe(true);
    expect((invalid as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['timeMs']);
  });

  it('refuses an unwritable output path before the run starts', async () => {
    const blocker = file('not-a-dir', 'x');
    const { code, stdout, stderr } = await run(['bench', '--quick', '--json', join(blocker, 'out.json')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('BENCH_INPUT');
    expect(stderr).toContain('choose a writable path');
  });
});
