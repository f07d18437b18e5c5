/**
 * `exportInternals` exports every defined mutable global and every defined
 * table under reserved names, so the `reuse` strategy can read and restore
 * them from JS; the rewritten module validates and the exports are live.
 */
import { describe, expect, it } from 'vitest';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { parseModule } from '../src/wasm/parse-module.js';
import { SECTION_ID } from '../src/wasm/module-sections.js';
import { call, instantiatePrepared, WA, wat, type WasmGlobal, type WasmTable } from './support/wasm-fixtures.js';

const SOURCE = `(module
  (import "env" "ig" (global $ig (mut i32)))
  (import "env" "it" (table $it 1 funcref))
  (memory (export "mem") 1)
  (global $a (mut i32) (i32.const 5))
  (global $c i32 (i32.const 9))
  (global $b (mut i64) (i64.const 123))
  (global $f (mut f64) (f64.const 1.5))
  (global $r (mut externref) (ref.null extern))
  (global $v (mut v128) (v128.const i32x4 1 2 3 4))
  (global $e (export "__cowpool_global_7") (mut i32) (i32.const 0))
  (table $t1 2 funcref)
  (table $t2 3 externref)
  (func $f0 (result i32) (i32.const 77))
  (elem (table $t1) (i32.const 0) func $f0)
  (func (export "getA") (result i32) (global.get $a))
  (func (export "getB") (result i64) (global.get $b))
  (func (export "getT2") (param i32) (result externref) (table.get $t2 (local.get 0)))
  (func (export "callT1") (param i32) (result i32) (call_indirect $t1 (result i32) (local.get 0))))`;

function imports(): Record<string, Record<string, unknown>> {
  return {
    env: {
      ig: new WA.Global({ value: 'i32', mutable: true }, 1),
      it: new WA.Table({ element: 'anyfunc', initial: 1 }),
    },
  };
}

describe('exportInternals', () => {
  it('lists defined mutable globals and defined tables, leaving out v128 and imported or immutable ones', async () => {
    const layout = prepareLayout(await wat(SOURCE, { simd: true }), { exportInternals: true });
    expect(layout.cow).toBe(true);
    expect(WA.validate(layout.bytes)).toBe(true);
    expect(layout.internals).toEqual({
      globals: [
        { exportName: '__cowpool_global_1', index: 1, valtype: 'i32' },
        { exportName: '__cowpool_global_3', index: 3, valtype: 'i64' },
        { exportName: '__cowpool_global_4', index: 4, valtype: 'f64' },
        { exportName: '__cowpool_global_5', index: 5, valtype: 'externref' },
        // The module already uses the reserved name for this very global; ours stays unique.
        { exportName: '__cowpool_global_7_1', index: 7, valtype: 'i32' },
      ],
      tables: [
        { exportName: '__cowpool_table_1', index: 1 },
        { exportName: '__cowpool_table_2', index: 2 },
      ],
      omittedGlobals: [{ index: 6, valtype: 'v128', reason: expect.stringMatching(/v128/) }],
    });
    // The summaries describe the original module.
    expect(layout.exports.map((e) => e.name)).not.toContain('__cowpool_global_1');
  });

  it('exports live globals and tables: JS writes are seen by wasm and the other way round', async () => {
    const layout = prepareLayout(await wat(SOURCE, { simd: true }), { exportInternals: true });
    const { instance } = instantiatePrepared(layout, imports());
    const global = (name: string): WasmGlobal => instance.exports[name] as WasmGlobal;
    const table = (name: string): WasmTable => instance.exports[name] as WasmTable;

    expect(global('__cowpool_global_1').value).toBe(5);
    global('__cowpool_global_1').value = 6;
    expect(call(instance, 'getA')).toBe(6);
    expect(global('__cowpool_global_3').value).toBe(123n);
    global('__cowpool_global_3').value = -1n;
    expect(call(instance, 'getB')).toBe(-1n);
    expect(global('__cowpool_global_4').value).toBe(1.5);
    expect(global('__cowpool_global_5').value).toBeNull();
    expect(global('__cowpool_global_7_1').value).toBe(0);

    expect(table('__cowpool_table_1').length).toBe(2);
    expect(call(instance, 'callT1', 0)).toBe(77);
    table('__cowpool_table_1').set(0, null);
    expect(() => call(instance, 'callT1', 0)).toThrow(WA.RuntimeError);
    const token = { restored: true };
    table('__cowpool_table_2').set(1, token);
    expect(call(instance, 'getT2', 1)).toBe(token);

    for (const name of ['__cowpool_global_0', '__cowpool_global_2', '__cowpool_global_6', '__cowpool_table_0']) {
      expect(instance.exports[name], name).toBeUndefined();
    }
  });

  it('is off by default: internals is null and nothing is added', async () => {
    const layout = prepareLayout(await wat(SOURCE, { simd: true }));
    expect(layout.internals).toBeNull();
    const names = parseModule(layout.bytes).exports.map((e) => e.name);
    expect(names.filter((n) => n.startsWith('__cowpool_'))).toEqual(['__cowpool_global_7']);
  });

  it('creates an export section in the right place when the module has none', async () => {
    const source = `(module
      (memory 1)
      (global $g (mut i32) (i32.const 3))
      (table 1 funcref)
      (func $s (global.set $g (i32.add (global.get $g) (i32.load8_u (i32.const 0)))))
      (start $s)
      (elem (i32.const 0) $s)
      (data (i32.const 0) "\\04"))`;
    const bytes = await wat(source);
    expect(parseModule(bytes).sections.some((s) => s.id === SECTION_ID.export)).toBe(false);
    const layout = prepareLayout(bytes, { exportInternals: true });
    expect(layout.cow).toBe(true);
    const ids = parseModule(layout.bytes).sections.map((s) => s.id);
    expect(ids).toEqual([SECTION_ID.type, SECTION_ID.import, SECTION_ID.function, SECTION_ID.table, SECTION_ID.global, SECTION_ID.export, SECTION_ID.start, SECTION_ID.element, SECTION_ID.code, SECTION_ID.data]);
    const { instance } = instantiatePrepared(layout);
    // The start function ran against the image: 3 + 4.
    expect((instance.exports['__cowpool_global_0'] as WasmGlobal).value).toBe(7);
    expect((instance.exports['__cowpool_table_0'] as WasmTable).length).toBe(1);
  });

  it('is null when the module falls back (the original bytes carry no extra exports)', async () => {
    const bytes = await wat('(module (global (mut i32) (i32.const 0)))');
    const layout = prepareLayout(bytes, { exportInternals: true });
    expect(layout.cow).toBe(false);
    expect(layout.internals).toBeNull();
  });
});
