/**
 * The `reuse` strategy keeps one instance per slot and rewinds it, so the
 * next tenant is *not* a fresh instance. SECURITY.md lists what it restores
 * (memory image, defined mutable globals, table entries) and what it does
 * not; this test checks both lists so the document stays true:
 *
 * - restored: memory back to the image, exported and internal mutable
 *   globals, table entries;
 * - not restored: a passive data or element segment a tenant dropped stays
 *   dropped (the next tenant's memory.init / table.init traps), and the start
 *   function does not run again (its writes to memory are gone for every later
 *   tenant).
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.js';
import { callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module (memory (export "mem") 1)
  (data $p "passive!")
  (data (i32.const 0) "image")
  (global (export "g") (mut i32) (i32.const 7))
  (global $h (mut i32) (i32.const 1))
  (table (export "tab") 2 funcref)
  (elem (i32.const 0) func $one)
  (elem declare func $evil)
  (elem $pe func $one)
  (func $one (result i32) (i32.const 1))
  (func $evil (result i32) (i32.const 666))
  (func $start (i32.store8 (i32.const 100) (i32.const 99)) (global.set $h (i32.const 5)))
  (start $start)
  (func (export "init") (memory.init $p (i32.const 200) (i32.const 0) (i32.const 8)))
  (func (export "drop") (data.drop $p))
  (func (export "tinit") (table.init 0 $pe (i32.const 1) (i32.const 0) (i32.const 1)))
  (func (export "edrop") (elem.drop $pe))
  (func (export "h") (result i32) (global.get $h))
  (func (export "seth") (param i32) (global.set $h (local.get 0)))
  (func (export "poison") (table.set 0 (i32.const 0) (ref.func $evil)) (table.set 0 (i32.const 1) (ref.func $evil)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "fill") (memory.fill (i32.const 0) (i32.const 0xee) (i32.const 65536))))`;

describe('reuse: the next tenant gets the same instance, rewound', () => {
  it('restores memory to the image, mutable globals (exported or not) and table entries', async () => {
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
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
    expect(callExport(next.exports, 'h')).toBe(5);
    const table = next.exports.tab as WebAssembly.Table;
    expect((table.get(0) as () => number)()).toBe(1);
    expect(table.get(1)).toBeNull();
    next.release();
    pool.close();
  });

  it('does not restore dropped passive segments, nor re-run the start function (a fresh instance differs)', async () => {
    const bytes = await watModule(WAT);
    const fresh = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    expect(callExport(fresh.exports, 'peek', 100)).toBe(99);
    expect(outcomeOf(() => callExport(fresh.exports, 'init'))).toEqual({ value: undefined });
    expect(outcomeOf(() => callExport(fresh.exports, 'tinit'))).toEqual({ value: undefined });

    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(bytes);
    const first = pool.instantiate(prepared);
    expect(callExport(first.exports, 'peek', 100)).toBe(99);
    callExport(first.exports, 'drop');
    callExport(first.exports, 'edrop');
    first.release();

    const next = pool.instantiate(prepared);
    expect(outcomeOf(() => callExport(next.exports, 'init'))).toMatchObject({ threw: 'RuntimeError' });
    expect(outcomeOf(() => callExport(next.exports, 'tinit'))).toMatchObject({ threw: 'RuntimeError' });
    expect(callExport(next.exports, 'peek', 100)).toBe(0);
    next.release();
    pool.close();
  });
});
