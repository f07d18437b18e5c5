/**
 * `reuse` keeps one instance per slot and rewinds it; it does so only for a
 * module whose rewind is exact (reuse-eligibility.ts). SECURITY.md relies on
 * both halves:
 *
 * - an eligible module's next tenant sees memory back at the image, every
 *   mutable global (exported or not) and every table entry as a fresh
 *   instance has them, on the same instance;
 * - a module with data.drop / elem.drop on passive segments, or a start
 *   function, is refused at prepare (stats say why) and its next tenant gets
 *   a new instance, equal to a fresh one: memory.init / table.init still work
 *   and the start function's write is there.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.js';
import { reuseRefusals } from '../src/wasm/reuse-eligibility.js';
import { callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

const ELIGIBLE = `(module (memory (export "mem") 1)
  (data $p "passive!")
  (data (i32.const 0) "image")
  (global (export "g") (mut i32) (i32.const 7))
  (global $h (mut i32) (i32.const 1))
  (table (export "tab") 2 funcref)
  (elem (i32.const 0) func $one)
  (elem declare func $evil)
  (func $one (result i32) (i32.const 1))
  (func $evil (result i32) (i32.const 666))
  (func (export "init") (memory.init $p (i32.const 200) (i32.const 0) (i32.const 8)))
  (func (export "h") (result i32) (global.get $h))
  (func (export "seth") (param i32) (global.set $h (local.get 0)))
  (func (export "poison") (table.set 0 (i32.const 0) (ref.func $evil)) (table.set 0 (i32.const 1) (ref.func $evil)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "fill") (memory.fill (i32.const 0) (i32.const 0xee) (i32.const 65536))))`;

const REFUSED = `(module (memory (export "mem") 1)
  (data $p "passive!")
  (table 2 funcref)
  (elem $pe func $one)
  (func $one (result i32) (i32.const 1))
  (func $start (i32.store8 (i32.const 100) (i32.const 99)))
  (start $start)
  (func (export "init") (memory.init $p (i32.const 200) (i32.const 0) (i32.const 8)))
  (func (export "drop") (data.drop $p))
  (func (export "tinit") (table.init 0 $pe (i32.const 1) (i32.const 0) (i32.const 1)))
  (func (export "edrop") (elem.drop $pe))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

describe('reuse: eligible modules are rewound exactly, the rest get fresh instances', () => {
  it('an eligible module keeps its instance; memory, mutable globals and table entries come back', async () => {
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(ELIGIBLE));
    expect(pool.stats().modules[0]?.reuse).toEqual({ eligible: true, refusals: [] });
    const first = pool.instantiate(prepared);
    const instance = first.instance;
    callExport(first.exports, 'fill');
    callExport(first.exports, 'seth', 42);
    (first.exports.g as WebAssembly.Global).value = 3;
    callExport(first.exports, 'poison');
    first.release();

    const next = pool.instantiate(prepared);
    expect(next.instance).toBe(instance);
    expect(new TextDecoder().decode(new Uint8Array((next.memory as WebAssembly.Memory).buffer, 0, 5))).toBe('image');
    expect(callExport(next.exports, 'peek', 5000)).toBe(0);
    expect((next.exports.g as WebAssembly.Global).value).toBe(7);
    expect(callExport(next.exports, 'h')).toBe(1);
    const table = next.exports.tab as WebAssembly.Table;
    expect((table.get(0) as () => number)()).toBe(1);
    expect(table.get(1)).toBeNull();
    expect(outcomeOf(() => callExport(next.exports, 'init'))).toEqual({ value: undefined });
    next.release();
    pool.close();
  });

  it('data.drop, elem.drop and a start function are refused at prepare, with the reasons in stats', async () => {
    const bytes = await watModule(REFUSED);
    expect(reuseRefusals(bytes).map((r) => r.reason)).toEqual(['data-drop', 'elem-drop', 'start-function']);
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    await pool.prepare(bytes, { name: 'refused' });
    const stats = pool.stats().modules[0];
    expect(stats?.reuse?.eligible).toBe(false);
    expect(stats?.reuse?.refusals.map((r) => r.reason)).toEqual(['data-drop', 'elem-drop', 'start-function']);
    pool.close();
  });

  it('a refused module\'s next tenant equals a fresh instance: segments intact, the start function\'s write there', async () => {
    const bytes = await watModule(REFUSED);
    const fresh = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    expect(callExport(fresh.exports, 'peek', 100)).toBe(99);

    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(bytes);
    const first = pool.instantiate(prepared);
    const instance = first.instance;
    callExport(first.exports, 'drop');
    callExport(first.exports, 'edrop');
    first.release();

    const next = pool.instantiate(prepared);
    expect(next.instance).not.toBe(instance);
    expect(outcomeOf(() => callExport(next.exports, 'init'))).toEqual({ value: undefined });
    expect(outcomeOf(() => callExport(next.exports, 'tinit'))).toEqual({ value: undefined });
    expect(callExport(next.exports, 'peek', 100)).toBe(99);
    next.release();
    pool.close();
  });

  it('a start function that only zeroes bytes the image has as zeros (LLVM\'s .bss clear) is exact; any other is refused', async () => {
    const startModule = (body: string, data = '') => watModule(`(module (memory 1) ${data} (func $s ${body}) (start $s))`);
    const zeroFill = await startModule('(memory.fill (i32.const 100) (i32.const 0) (i32.const 50))', '(data (i32.const 0) "abc")');
    expect(reuseRefusals(zeroFill, new TextEncoder().encode('abc'))).toEqual([]);
    // The same fill over bytes the image holds: a fresh instance has zeros there, the rewound one would not.
    const overData = await startModule('(memory.fill (i32.const 1) (i32.const 0) (i32.const 50))', '(data (i32.const 0) "abc")');
    expect(reuseRefusals(overData, new TextEncoder().encode('abc')).map((r) => r.reason)).toEqual(['start-function']);
    const nonZero = await startModule('(memory.fill (i32.const 100) (i32.const 7) (i32.const 50))');
    expect(reuseRefusals(nonZero).map((r) => r.reason)).toEqual(['start-function']);
    const more = await startModule('(memory.fill (i32.const 100) (i32.const 0) (i32.const 50)) (i32.store8 (i32.const 0) (i32.const 1))');
    expect(reuseRefusals(more).map((r) => r.reason)).toEqual(['start-function']);
  });

  it('a float global that starts as a NaN drops the instance: JS could not put its payload back', async () => {
    const bytes = await watModule(`(module (memory 1)
      (global $g (mut f64) (f64.const nan:0x4))
      (func (export "bits") (result i64) (i64.reinterpret_f64 (global.get $g)))
      (func (export "set") (global.set $g (f64.const 1))))`);
    const fresh = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const expected = callExport(fresh.exports, 'bits');
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(bytes);
    for (let tenant = 0; tenant < 3; tenant++) {
      const lease = pool.instantiate(prepared);
      expect({ tenant, bits: callExport(lease.exports, 'bits') }).toEqual({ tenant, bits: expected });
      callExport(lease.exports, 'set');
      lease.release();
    }
    pool.close();
  });

  it('passive segments that are never dropped do not refuse; a drop of an active segment does not either', async () => {
    const bytes = await watModule(`(module (memory 1)
      (data $p "x") (data $a (i32.const 0) "y")
      (func (export "init") (memory.init $p (i32.const 0) (i32.const 0) (i32.const 1)))
      (func (export "dropActive") (data.drop $a)))`);
    // The byte scan cannot tell which segment a data.drop names: it refuses (never misses) once a passive segment exists.
    expect(reuseRefusals(bytes).map((r) => r.reason)).toEqual(['data-drop']);
    const noDrop = await watModule(`(module (memory 1) (data $p "x")
      (func (export "init") (memory.init $p (i32.const 0) (i32.const 0) (i32.const 1))))`);
    expect(reuseRefusals(noDrop)).toEqual([]);
    const activeOnly = await watModule(`(module (memory 1) (data $a (i32.const 0) "y") (func (export "d") (data.drop $a)))`);
    expect(reuseRefusals(activeOnly)).toEqual([]);
  });
});
