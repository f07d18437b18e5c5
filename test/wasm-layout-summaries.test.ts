/**
 * The summaries a PreparedLayout carries about the original module: tables,
 * globals, imports, exports, element segments, memory exports, segment
 * counts and the start function.
 */
import { describe, expect, it } from 'vitest';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { WA, wat } from './support/wasm-fixtures.js';

const SOURCE = `(module
  (import "env" "f" (func $imp))
  (import "env" "base" (global $base i32))
  (import "env" "tab" (table $itab 2 10 externref))
  (memory $m (export "memory") (export "alias") 2 7)
  (global $g (mut f32) (f32.const 0.5))
  (global $h i64 (i64.const 1))
  (table $t 8 funcref)
  (func $a)
  (func $b)
  (func $start)
  (start $start)
  (export "a" (func $a))
  (export "t" (table $t))
  (export "g" (global $g))
  (elem (table $t) (i32.const 2) func $a $b)
  (elem (table $t) (global.get $base) func $b)
  (elem $passive funcref (ref.func $a) (ref.null func))
  (elem $exprs funcref (ref.func $b) (ref.func $imp))
  (elem declare func $start)
  (data (i32.const 10) "0123456789")
  (data "passive one")
  (data "passive two")
  (data (i32.const 20) ""))`;

describe('layout summaries', () => {
  it('describe the original module', async () => {
    const layout = prepareLayout(await wat(SOURCE));
    expect(layout.cow).toBe(true);
    expect(WA.validate(layout.bytes)).toBe(true);
    expect(layout.memory).toEqual({ initialPages: 2, maximumPages: 7, shared: false, memory64: false });
    expect(layout.memoryImported).toBe(false);
    expect(layout.memoryExportNames).toEqual(['memory', 'alias']);
    expect(layout.activeSegments).toBe(2);
    expect(layout.passiveSegments).toBe(2);
    expect(layout.imageDataBytes).toBe(10);
    expect(layout.functions).toEqual({ imported: 1, defined: 3 });
    expect(layout.start).toBe(3);
    expect(layout.tables).toEqual([
      { index: 0, initial: 2, maximum: 10, elemType: 'externref', imported: true },
      { index: 1, initial: 8, maximum: null, elemType: 'funcref', imported: false },
    ]);
    expect(layout.globals).toEqual([
      { index: 0, valtype: 'i32', mutable: false, imported: true },
      { index: 1, valtype: 'f32', mutable: true, imported: false },
      { index: 2, valtype: 'i64', mutable: false, imported: false },
    ]);
    expect(layout.imports).toEqual([
      { module: 'env', name: 'f', kind: 'function', index: 0 },
      { module: 'env', name: 'base', kind: 'global', index: 0 },
      { module: 'env', name: 'tab', kind: 'table', index: 0 },
    ]);
    expect(layout.exports).toEqual([
      { name: 'memory', kind: 'memory', index: 0 },
      { name: 'alias', kind: 'memory', index: 0 },
      { name: 'a', kind: 'function', index: 1 },
      { name: 't', kind: 'table', index: 1 },
      { name: 'g', kind: 'global', index: 1 },
    ]);
    expect(layout.elementSegments).toEqual([
      { mode: 'active', tableIndex: 1, offset: 2, funcIndices: [1, 2], elemType: 'funcref', length: 2 },
      { mode: 'active', tableIndex: 1, offset: null, funcIndices: [2], elemType: 'funcref', length: 1 },
      { mode: 'passive', tableIndex: null, offset: null, funcIndices: null, elemType: 'funcref', length: 2 },
      { mode: 'passive', tableIndex: null, offset: null, funcIndices: [2, 0], elemType: 'funcref', length: 2 },
      { mode: 'declarative', tableIndex: null, offset: null, funcIndices: [3], elemType: 'funcref', length: 1 },
    ]);
  });

  it('are filled in for a fallback too', async () => {
    const layout = prepareLayout(await wat('(module (import "env" "m" (memory 1 2 shared)) (export "m" (memory 0)))', { threads: true }));
    expect(layout.cow).toBe(false);
    expect(layout.memoryImported).toBe(true);
    expect(layout.memoryExportNames).toEqual(['m']);
    expect(layout.imports).toEqual([{ module: 'env', name: 'm', kind: 'memory', index: 0 }]);
  });
});
