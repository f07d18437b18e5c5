/**
 * A snapshot tenant observes exactly a fresh plain instance after its start
 * function and the initializer ran: memory bytes and size (grown, maximum
 * unchanged), every mutable global (exported or not, exact float and v128
 * bits, funcref by function, null externref), tables' sizes and entries
 * (own and imported functions), passive segments (dropped stay dropped,
 * others usable), under every strategy and reset mode, for three tenants in a
 * row of a one-slot pool, each of which scribbles over all of that state.
 */
import { describe, expect, it } from 'vitest';
import { createPool, RESET_MODES, STRATEGIES } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';
import { observe, referenceInstance } from './support/snapshot-reference.js';

const WAT = `(module
  (import "env" "note" (func $note (param i32) (result i32)))
  (memory (export "mem") 1 8)
  (global $count (mut i32) (i32.const 0))
  (global $i64 (mut i64) (i64.const 0))
  (global $f32 (mut f32) (f32.const 0))
  (global $f64 (mut f64) (f64.const 0))
  (global $v128 (mut v128) (v128.const i64x2 0 0))
  (global $fref (mut funcref) (ref.null func))
  (global $eref (mut externref) (ref.null extern))
  (global (export "exported") (mut i32) (i32.const 5))
  (global $imm i32 (i32.const 77))
  (table $t (export "table") 2 10 funcref)
  (table $u 2 6 funcref)
  (elem (table $t) (i32.const 0) func $f1)
  (elem $pe1 func $f1 $f2 $f3)
  (elem $pe2 func $f3 $f2)
  (elem declare func $f4 $note)
  (data (i32.const 0) "active-data")
  (data $pd1 "dropped")
  (data $pd2 "kept-data")
  (func $f1 (result i32) i32.const 1)
  (func $f2 (result i32) i32.const 2)
  (func $f3 (result i32) i32.const 3)
  (func $f4 (result i32) i32.const 4)
  (func $start
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 100) (i32.const 0x5742)))
  (start $start)
  (func (export "init") (local $i i32)
    (drop (memory.grow (i32.const 2)))
    (local.set $i (i32.const 65536))
    (block $done (loop $fill
      (br_if $done (i32.ge_u (local.get $i) (i32.const 77824)))
      (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 31)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $fill)))
    (i64.store (i32.const 131080) (i64.const -2))
    (memory.init $pd1 (i32.const 200) (i32.const 0) (i32.const 7))
    (data.drop $pd1)
    (global.set $i64 (i64.const 0x123456789abcdef0))
    (global.set $f32 (f32.reinterpret_i32 (i32.const 0x7fc00001)))
    (global.set $f64 (f64.reinterpret_i64 (i64.const 0x7ff8000000000abc)))
    (global.set $v128 (v128.const i32x4 1 2 3 4))
    (global.set $fref (ref.func $f4))
    (global.set 7 (i32.const 55))
    (drop (table.grow $t (ref.func $f2) (i32.const 3)))
    (table.set $t (i32.const 1) (ref.func $f3))
    (table.set $u (i32.const 0) (ref.func $note))
    (drop (table.grow $u (ref.null func) (i32.const 1)))
    (table.init $u $pe1 (i32.const 1) (i32.const 2) (i32.const 1))
    (elem.drop $pe1)
    (global.set $count (i32.add (global.get $count) (call $note (i32.const 40)))))
  (type $ii (func (param i32) (result i32)))
  (type $vi (func (result i32)))
  (func (export "count") (result i32) global.get $count)
  (func (export "i64") (result i64) global.get $i64)
  (func (export "f32bits") (result i32) (i32.reinterpret_f32 (global.get $f32)))
  (func (export "f64bits") (result i64) (i64.reinterpret_f64 (global.get $f64)))
  (func (export "v128lo") (result i64) (i64x2.extract_lane 0 (global.get $v128)))
  (func (export "v128hi") (result i64) (i64x2.extract_lane 1 (global.get $v128)))
  (func (export "fref") (result funcref) global.get $fref)
  (func (export "erefNull") (result i32) (ref.is_null (global.get $eref)))
  (func (export "imm") (result i32) global.get $imm)
  (func (export "uSize") (result i32) (table.size $u))
  (func (export "callU0") (result i32) (call_indirect $u (type $ii) (i32.const 9) (i32.const 0)))
  (func (export "callU1") (result i32) (call_indirect $u (type $vi) (i32.const 1)))
  (func (export "pd1") (memory.init $pd1 (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "pd2") (result i64) (memory.init $pd2 (i32.const 300) (i32.const 0) (i32.const 9)) (i64.load (i32.const 300)))
  (func (export "pe1") (table.init $u $pe1 (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "pe2") (result i32) (table.init $u $pe2 (i32.const 1) (i32.const 0) (i32.const 1)) (call_indirect $u (type $vi) (i32.const 1)))
  (func (export "growPastMax") (result i32) (memory.grow (i32.const 6)))
  (func (export "tableGrowPastMax") (result i32) (table.grow $t (ref.null func) (i32.const 6)))
  (func (export "scribble") (local $i i32)
    (local.set $i (i32.const 0))
    (block $done (loop $w
      (br_if $done (i32.ge_u (local.get $i) (i32.const 196608)))
      (i32.store (local.get $i) (i32.const 0xa5a5a5a5))
      (local.set $i (i32.add (local.get $i) (i32.const 4093)))
      (br $w)))
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 200000) (i32.const 1))
    (global.set $count (i32.const -1))
    (global.set $i64 (i64.const -1))
    (global.set $f32 (f32.const 1))
    (global.set $f64 (f64.const 1))
    (global.set $v128 (v128.const i64x2 9 9))
    (global.set $fref (ref.func $f1))
    (global.set 7 (i32.const -7))
    (drop (table.grow $t (ref.func $f1) (i32.const 2)))
    (table.set $t (i32.const 0) (ref.null func))
    (table.set $u (i32.const 0) (ref.func $f2))
    (data.drop $pd2)
    (elem.drop $pe2)
    (drop (call $note (i32.const 1)))))`;

const PROBES = [
  'count', 'i64', 'f32bits', 'f64bits', 'v128lo', 'v128hi', 'fref', 'erefNull', 'imm', 'uSize',
  'callU0', 'callU1', 'pd1', 'pd2', 'pe1', 'pe2', 'growPastMax', 'tableGrowPastMax',
];

/** `note` returns x + 1000 and records each call, per instance. */
function noteImports(calls: number[]): WebAssembly.Imports {
  return { env: { note: (x: number) => (calls.push(x), x + 1000) } };
}

const POOLED_CASES = STRATEGIES.filter((s) => s !== 'fresh').flatMap((strategy) => RESET_MODES.map((mode) => ({ strategy, mode })));

describe('snapshot tenant equals fresh instance + initializer', async () => {
  const bytes = await watModule(WAT, { simd: true });
  const initCalls: number[] = [];
  const initialize = { export: 'init', imports: noteImports(initCalls) };
  const reference = await referenceInstance(bytes, { export: 'init', imports: noteImports([]) });
  const expected = observe(reference.exports, reference.module, PROBES);

  it('the reference is initialized (the comparison is not vacuous)', () => {
    const plain = new WebAssembly.Instance(reference.module, noteImports([])).exports as Record<string, unknown>;
    const uninitialized = observe(plain, reference.module, PROBES);
    expect(expected.state.memories.mem!.pages).toBe(3);
    for (const probe of ['count', 'i64', 'f32bits', 'f64bits', 'v128lo', 'fref', 'uSize', 'callU0', 'callU1', 'pd1', 'pe1']) {
      expect(expected.probes[probe], probe).not.toEqual(uninitialized.probes[probe]);
    }
    expect(expected.probes.count).toEqual({ value: 1041 });
    expect(expected.probes.f32bits).toEqual({ value: 0x7fc00001 });
    expect(expected.probes.growPastMax).toEqual({ value: -1 });
  });

  it.each([{ strategy: 'fresh' as const, mode: 'madvise' as const }, ...POOLED_CASES])('$strategy / $mode: three tenants in one slot', async ({ strategy, mode }) => {
    const pool = createPool({ strategy, limits: { maxSlots: 1 }, reset: { mode } });
    try {
      initCalls.length = 0;
      const prepared = await pool.prepare(bytes, { initialize });
      // The initializer ran once, at prepare, with its own imports.
      expect(initCalls).toEqual([40]);
      for (let tenant = 0; tenant < 3; tenant++) {
        const calls: number[] = [];
        const lease = pool.instantiate(prepared, noteImports(calls));
        // Neither start nor the initializer ran again: nothing called note.
        expect(calls, `tenant ${tenant}`).toEqual([]);
        const seen = observe(lease.exports, reference.module, PROBES);
        expect(seen, `tenant ${tenant}`).toEqual(expected);
        (lease.exports.scribble as () => void)();
        lease.release();
      }
      expect(pool.stats().resetFailures).toBe(0);
    } finally {
      pool.close();
    }
  });

  it.each(['madvise', 'restore-dirty', 'track-writes'] as const)('cow / %s: alternating with the same module prepared without a snapshot, in one slot', async (mode) => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 }, reset: { mode } });
    try {
      const snapshot = await pool.prepare(bytes, { initialize });
      const original = await pool.prepare(bytes);
      const plain = observe(new WebAssembly.Instance(reference.module, noteImports([])).exports as Record<string, unknown>, reference.module, PROBES);
      for (let round = 0; round < 3; round++) {
        for (const [prepared, wanted] of [[snapshot, expected], [original, plain]] as const) {
          const lease = pool.instantiate(prepared, noteImports([]));
          expect(observe(lease.exports, reference.module, PROBES), `round ${round}`).toEqual(wanted);
          (lease.exports.scribble as () => void)();
          lease.release();
        }
      }
    } finally {
      pool.close();
    }
  });
});
