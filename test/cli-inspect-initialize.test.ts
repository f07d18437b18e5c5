/**
 * `cowpool inspect --initialize <export>` reports the snapshot (memory pages
 * and bytes, globals, table entries, dropped segments) and exits 0; a
 * snapshot refused or an initializer that fails is reported with its code
 * and exit 1; without the flag nothing runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { watModule } from './helpers/wat-module.js';

const dir = mkdtempSync(join(tmpdir(), 'cowpool-cli-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('cowpool inspect --initialize', async () => {
  const path = join(dir, 'init.wasm');
  writeFileSync(path, await watModule(`(module
    (import "env" "now" (func $now (result i32)))
    (memory (export "mem") 1 4)
    (global $g (mut i32) (i32.const 1))
    (table 1 funcref)
    (elem declare func $f)
    (data $d "xyz")
    (func $f)
    (func (export "init")
      (drop (memory.grow (i32.const 1)))
      (i32.store (i32.const 70000) (call $now))
      (i32.store (i32.const 70004) (i32.const 1))
      (global.set $g (i32.const 42))
      (drop (table.grow (ref.func $f) (i32.const 2)))
      (data.drop $d))
    (func (export "bad") (unreachable)))`));
  const refusedPath = join(dir, 'imported-global.wasm');
  writeFileSync(refusedPath, await watModule(`(module
    (import "env" "counter" (global $c (mut i32)))
    (memory 1)
    (func (export "init") (global.set $c (i32.const 1))))`));

  it('reports pages, bytes, globals, tables and dropped segments (exit 0)', async () => {
    const r = await run(['inspect', path, '--initialize', 'init']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/snapshot {8}after start \(none\) and "init"/);
    expect(r.out).toMatch(/memory {8}2 pages \(declared 1\), 4096 bytes in 1 data segments/);
    expect(r.out).toMatch(/globals {7}0: i32 42/);
    expect(r.out).toMatch(/tables {8}0: 3 entries \(declared 1\), 2 functions/);
    expect(r.out).toMatch(/dropped {7}data 0; elements none/);
    const json = JSON.parse((await run(['inspect', path, '--initialize', 'init', '--json'])).out);
    expect(json.snapshot.report.memory).toEqual({ pages: 2, declaredPages: 1, dataBytes: 4096, segments: 1 });
  });

  it('an initializer that traps is reported with its code (exit 1)', async () => {
    const r = await run(['inspect', path, '--initialize', 'bad']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/snapshot {8}refused after "bad" — INSTANTIATE_FAILED: .*unreachable/);
  });

  it('a snapshot that cannot be taken exactly is reported with SNAPSHOT_UNSUPPORTED (exit 1)', async () => {
    const r = await run(['inspect', refusedPath, '--initialize', 'init']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/SNAPSHOT_UNSUPPORTED: .*imported mutable global 0 \(env\.counter\) was changed/);
  });

  it('without --initialize, no snapshot is taken', async () => {
    const r = await run(['inspect', path]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/snapshot/);
  });
});
