/**
 * `pool.instantiate<E>()` types `lease.exports` as E, so calls need no cast.
 * The type assertions are checked by `npx tsc -p tsconfig.test.json` (vitest
 * itself does not type-check); the runtime ones by the suite.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { watModule } from './helpers/wat-module.js';

interface AddExports {
  add(a: number, b: number): number;
  memory: WebAssembly.Memory;
}

describe('lease.exports typed by instantiate<E>()', () => {
  it('calls a typed export without a cast', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(await watModule(`(module (memory (export "memory") 1)
        (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`));
      const lease = pool.instantiate<AddExports>(prepared);
      expectTypeOf(lease.exports.add).toEqualTypeOf<(a: number, b: number) => number>();
      expect(lease.exports.add(2, 3)).toBe(5);
      expect(lease.exports.memory).toBeInstanceOf(WebAssembly.Memory);
      lease.release();
      const untyped = pool.instantiate(prepared);
      expectTypeOf(untyped.exports).toEqualTypeOf<Record<string, unknown>>();
      untyped.release();
    } finally {
      pool.close();
    }
  });
});
