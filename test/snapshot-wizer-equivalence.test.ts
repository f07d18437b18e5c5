/**
 * For every module Wizer (`@bytecodealliance/wizer`, pinned 10.0.0) accepts,
 * the snapshot equals Wizer's output instantiated plainly: every memory byte,
 * memory size, exported globals and non-exported ones read through getters.
 * The modules Wizer refuses (initializer calling an import, table changes,
 * imported memory, data.drop) are snapshotted by cowpool and equal the
 * reference instead; the test checks Wizer still refuses them, so the list
 * stays true.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wizerPath from '@bytecodealliance/wizer';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';
import { observe, referenceInstance } from './support/snapshot-reference.js';

const dir = mkdtempSync(join(tmpdir(), 'cowpool-wizer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Wizer's snapshot of `bytes` with `init` as the initializer, or the first line of its refusal. */
function wizer(bytes: Uint8Array, name: string): { ok: true; bytes: Uint8Array } | { ok: false; reason: string } {
  const input = join(dir, `${name}.wasm`);
  const output = join(dir, `${name}.wizer.wasm`);
  writeFileSync(input, bytes);
  try {
    execFileSync(wizerPath, [input, '-o', output, '-f', 'init', '--wasm-bulk-memory', 'true', '--wasm-simd', 'true'], { stdio: 'pipe' });
  } catch (e) {
    return { ok: false, reason: String((e as { stderr?: Buffer }).stderr ?? e).split('\n')[0]! };
  }
  return { ok: true, bytes: new Uint8Array(readFileSync(output)) };
}

interface Case {
  name: string;
  wat: string;
  probes: string[];
  imports?: () => WebAssembly.Imports;
}

const ACCEPTED: Case[] = [
  {
    name: 'memory writes, a grow, i32/i64 globals exported and not',
    wat: `(module (memory (export "mem") 1 4)
      (global $g (mut i32) (i32.const 1))
      (global (export "e") (mut i64) (i64.const 0))
      (func (export "init") (local $i i32)
        (drop (memory.grow (i32.const 1)))
        (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (i32.const 100000)))
          (i32.store8 (local.get $i) (i32.xor (local.get $i) (i32.const 0x5a)))
          (local.set $i (i32.add (local.get $i) (i32.const 7))) (br $l)))
        (global.set $g (i32.const 9)) (global.set 1 (i64.const -3)))
      (func (export "g") (result i32) global.get $g))`,
    probes: ['g'],
  },
  {
    name: 'a start function, then the initializer',
    wat: `(module (memory (export "mem") 1)
      (global $g (mut i32) (i32.const 1))
      (func $s (global.set $g (i32.const 2)) (i32.store (i32.const 4) (i32.const 0x01020304)))
      (start $s)
      (func (export "init") (i32.store (i32.const 8) (i32.add (global.get $g) (i32.const 40))))
      (func (export "g") (result i32) global.get $g))`,
    probes: ['g'],
  },
  {
    name: 'v128 and NaN-payload float globals',
    wat: `(module (memory (export "mem") 1)
      (global $v (mut v128) (v128.const i64x2 0 0))
      (global (export "f") (mut f32) (f32.const 0))
      (global $d (mut f64) (f64.const 0))
      (func (export "init")
        (global.set $v (v128.const i64x2 1 -2))
        (global.set 1 (f32.reinterpret_i32 (i32.const 0x7fc00001)))
        (global.set $d (f64.reinterpret_i64 (i64.const 0xfff0000000000123))))
      (func (export "lo") (result i64) (i64x2.extract_lane 0 (global.get $v)))
      (func (export "hi") (result i64) (i64x2.extract_lane 1 (global.get $v)))
      (func (export "fbits") (result i32) (i32.reinterpret_f32 (global.get 1)))
      (func (export "dbits") (result i64) (i64.reinterpret_f64 (global.get $d))))`,
    probes: ['lo', 'hi', 'fbits', 'dbits'],
  },
];

const REFUSED_BY_WIZER: (Case & { wizerSays: RegExp })[] = [
  {
    name: 'an initializer that calls an import',
    wat: `(module (import "env" "f" (func $f (result i32))) (memory (export "mem") 1)
      (func (export "init") (i32.store (i32.const 8) (call $f))))`,
    probes: [],
    imports: () => ({ env: { f: () => 77 } }),
    wizerSays: /trapped/,
  },
  {
    name: 'a table change',
    wat: `(module (memory (export "mem") 1) (table (export "t") 2 funcref) (elem declare func $a) (func $a)
      (func (export "init") (table.set (i32.const 1) (ref.func $a))))`,
    probes: [],
    wizerSays: /ref\.func/,
  },
  {
    name: 'an imported memory',
    wat: `(module (import "env" "memory" (memory 1)) (func (export "init") (i32.store (i32.const 8) (i32.const 1)))
      (func (export "at8") (result i32) (i32.load (i32.const 8))))`,
    probes: ['at8'],
    wizerSays: /memory imports are not allowed/,
  },
  {
    name: 'a dropped data segment',
    wat: `(module (memory (export "mem") 1) (data $d "abc")
      (func (export "init") (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3)) (data.drop $d))
      (func (export "again") (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))))`,
    probes: ['again'],
    wizerSays: /data\.drop/,
  },
];

async function snapshotObservation(bytes: Uint8Array, c: Case, module: WebAssembly.Module): Promise<ReturnType<typeof observe>> {
  const pool = createPool({ strategy: 'cow' });
  try {
    const prepared = await pool.prepare(bytes, { initialize: { export: 'init', imports: c.imports?.() ?? {} } });
    const lease = pool.instantiate(prepared, c.imports?.() ?? {});
    const seen = observe(lease.exports, module, c.probes);
    lease.release();
    return seen;
  } finally {
    pool.close();
  }
}

describe('snapshot vs Wizer 10.0.0', () => {
  it.each(ACCEPTED)('$name: equals Wizer output served plainly', async (c) => {
    const bytes = await watModule(c.wat, { simd: true });
    const wizered = wizer(bytes, c.name.replace(/\W+/g, '-'));
    expect(wizered.ok, wizered.ok ? '' : wizered.reason).toBe(true);
    if (!wizered.ok) return;
    const wizerModule = new WebAssembly.Module(wizered.bytes);
    const wizerInstance = new WebAssembly.Instance(wizerModule, {});
    const reference = await referenceInstance(bytes, { export: 'init' });
    const ours = await snapshotObservation(bytes, c, reference.module);
    expect(ours).toEqual(observe(wizerInstance.exports as Record<string, unknown>, reference.module, c.probes));
    expect(ours).toEqual(observe(reference.exports, reference.module, c.probes));
  });

  it.each(REFUSED_BY_WIZER)('$name: Wizer refuses, the snapshot equals the reference', async (c) => {
    const bytes = await watModule(c.wat);
    const wizered = wizer(bytes, c.name.replace(/\W+/g, '-'));
    expect(wizered.ok).toBe(false);
    if (!wizered.ok) expect(wizered.reason).toMatch(c.wizerSays);
    const reference = await referenceInstance(bytes, { export: 'init', imports: c.imports?.() ?? {} });
    const ours = await snapshotObservation(bytes, c, reference.module);
    expect(ours).toEqual(observe(reference.exports, reference.module, c.probes));
  });
});
