/**
 * The virtual-size rewrite (src/wasm/virtual-size-rewrite.ts) keeps every
 * function index meaning the same function although it adds an import:
 * calls, tail calls, ref.func in code and in globals, element segments of
 * both encodings, exports and the start function. Real modules (the WASI
 * corpus, SQLite, sql.js, QuickJS) rewrite to modules V8 accepts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { wat } from './support/wasm-fixtures.js';

const require = createRequire(import.meta.url);

const INDEXED = `(module
  (import "env" "log" (func $log (param i32)))
  (memory 1 3)
  (table $t 4 funcref)
  (global $g (mut funcref) (ref.func $seven))
  (elem (i32.const 0) $one $two)
  (elem (table $t) (i32.const 2) funcref (ref.func $seven) (ref.null func))
  (elem $passive funcref (ref.func $two))
  (elem declare func $nine)
  (type $ret (func (result i32)))
  (start $init)
  (func $init (call $log (i32.const 42)) (i32.store (i32.const 8) (call $one)))
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $seven (result i32) (i32.const 7))
  (func $nine (result i32) (i32.const 9))
  (func (export "viaTable") (param i32) (result i32) (call_indirect (type $ret) (local.get 0)))
  (func (export "viaGlobal") (result i32) (call_indirect (type $ret) (i32.const 3)) drop (table.set $t (i32.const 3) (global.get $g)) (call_indirect (type $ret) (i32.const 3)))
  (func (export "viaRefFunc") (result i32) (table.set $t (i32.const 3) (ref.func $nine)) (call_indirect (type $ret) (i32.const 3)))
  (func (export "viaInit") (result i32) (table.init $t $passive (i32.const 1) (i32.const 0) (i32.const 1)) (call_indirect (type $ret) (i32.const 1)))
  (func (export "tail") (result i32) (return_call $seven))
  (func (export "stored") (result i32) (i32.load (i32.const 8)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (export "one" (func $one)))`;

function observe(exports: WebAssembly.Exports): unknown[] {
  const f = (name: string, ...args: number[]): unknown => {
    try {
      return (exports[name] as (...a: number[]) => unknown)(...args);
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  return [f('viaTable', 0), f('viaTable', 1), f('viaTable', 2), f('viaTable', 3), f('viaGlobal'), f('viaRefFunc'), f('viaInit'), f('tail'), f('stored'), f('one'), f('grow', 1), f('grow', 5)];
}

describe('virtual-size rewrite', () => {
  it('every function index still names its function (calls, tables, elements, globals, start, exports)', async () => {
    const bytes = await wat(INDEXED, { bulk_memory: true, reference_types: true, tail_call: true });
    const logged: number[] = [];
    const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { log: (v: number) => logged.push(v) } });
    const expected = observe(plain.exports);
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(bytes, { growth: 'virtual' });
      expect(prepared.growth.mode).toBe('virtual');
      for (let round = 0; round < 3; round++) {
        const lease = pool.instantiate(prepared, { env: { log: (v: number) => logged.push(v) } });
        expect(observe(lease.exports as unknown as WebAssembly.Exports)).toEqual(expected);
        lease.release();
      }
    } finally {
      pool.close();
    }
    expect(logged).toEqual([42, 42, 42, 42]);
    expect(expected).toContain(9);
  });

  const modules: [string, string][] = [
    ...readdirSync(new URL('fixtures/wasi/', import.meta.url)).filter((f) => f.endsWith('.wasm')).map((f): [string, string] => [f, new URL(`fixtures/wasi/${f}`, import.meta.url).pathname]),
    ['sqlite-endpoint', new URL('../examples/sqlite-endpoint/handler.wasm', import.meta.url).pathname],
    ['sql.js', require.resolve('sql.js/dist/sql-wasm.wasm')],
    ['quickjs', require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')],
  ];
  it.each(modules)('%s rewrites to a module V8 accepts', (_name, file) => {
    const layout = prepareLayout(readFileSync(file), { virtualSize: true });
    expect(layout.cow).toBe(true);
    expect(layout.virtualSizeRefusal).toBeNull();
    expect(layout.virtualSize).not.toBeNull();
    expect(WebAssembly.validate(layout.bytes)).toBe(true);
  });
});
