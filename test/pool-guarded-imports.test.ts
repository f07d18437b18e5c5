/**
 * The pool links every instance through wrappers around its import functions
 * (they count calls in flight, see pool-release-in-call). The wrappers must be
 * invisible otherwise: a tenant's calls reach exactly its own functions, with
 * exactly the arguments wasm passes, link errors stay V8's, and a slot's
 * cached linking is reused only for the same functions.
 */
import { describe, expect, it } from 'vitest';
import { createPool, STRATEGIES } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module
  (import "env" "three" (func $three (param i32 i32 i32) (result i32)))
  (import "env" "none" (func $none (result i32)))
  (memory 1)
  (func (export "callThree") (param i32 i32 i32) (result i32) (call $three (local.get 0) (local.get 1) (local.get 2)))
  (func (export "callNone") (result i32) (call $none)))`;

describe('guarded imports', () => {
  for (const strategy of STRATEGIES) {
    it(`${strategy}: a function receives exactly the arguments wasm passes, whatever its declared length, and no this`, async () => {
      const pool = createPool({ strategy, limits: { maxSlots: 1 } });
      try {
        const prepared = await pool.prepare(await watModule(WAT));
        const seen: unknown[][] = [];
        const record = function (this: unknown, ...args: unknown[]): number {
          seen.push([this, ...args]);
          return args.length;
        };
        const imports = {
          env: {
            // Declared lengths that match (3, 0) and that do not (1, 2).
            three: Object.defineProperty(record.bind(undefined), 'length', { value: 1 }),
            none: Object.defineProperty(record.bind(undefined), 'length', { value: 2 }),
          },
        };
        const lease = pool.instantiate(prepared, imports);
        expect((lease.exports.callThree as (...a: number[]) => number)(1, 2, 3)).toBe(3);
        expect((lease.exports.callNone as () => number)()).toBe(0);
        lease.release();
        const matching = pool.instantiate(prepared, { env: { three: (a: number, b: number, c: number) => a + b + c, none: () => 7 } });
        expect((matching.exports.callThree as (...a: number[]) => number)(1, 2, 3)).toBe(6);
        expect((matching.exports.callNone as () => number)()).toBe(7);
        matching.release();
        expect(seen).toEqual([[undefined, 1, 2, 3], [undefined]]);
      } finally {
        pool.close();
      }
    });
  }

  it('cow: tenants of one slot reach their own functions; the same functions again reuse the slot\'s linking', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(await watModule(WAT));
      const a = { env: { three: () => 1, none: () => 10 } };
      const b = { env: { three: () => 2, none: () => 20 } };
      const results: number[] = [];
      for (const imports of [a, b, a, { env: { ...a.env } }, { env: { three: a.env.three, none: b.env.none } }]) {
        const lease = pool.instantiate(prepared, imports);
        results.push((lease.exports.callNone as () => number)());
        lease.release();
      }
      expect(results).toEqual([10, 20, 10, 10, 20]);
    } finally {
      pool.close();
    }
  });

  it('link errors are V8\'s own: a missing module object, a missing function', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(await watModule(WAT));
      expect(() => pool.instantiate(prepared, {})).toThrow(TypeError);
      expect(() => pool.instantiate(prepared, { env: { three: () => 0 } })).toThrow(WebAssembly.LinkError);
      // Both gave the slot back.
      const lease = pool.instantiate(prepared, { env: { three: () => 0, none: () => 5 } });
      expect((lease.exports.callNone as () => number)()).toBe(5);
      lease.release();
    } finally {
      pool.close();
    }
  });

  it('imports named __proto__ are linked as plain names (two from one module, so neither replaces the other)', async () => {
    const wat = `(module (import "__proto__" "__proto__" (func $f (result i32))) (import "__proto__" "g" (func $g (result i32))) (memory 1)
      (func (export "call") (result i32) (i32.add (call $f) (call $g))))`;
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(await watModule(wat));
      const inner: Record<string, unknown> = { g: () => 1 };
      Object.defineProperty(inner, '__proto__', { value: () => 41, enumerable: true });
      const imports: Record<string, unknown> = {};
      Object.defineProperty(imports, '__proto__', { value: inner, enumerable: true });
      const lease = pool.instantiate(prepared, imports as WebAssembly.Imports);
      expect((lease.exports.call as () => number)()).toBe(42);
      lease.release();
    } finally {
      pool.close();
    }
  });
});
