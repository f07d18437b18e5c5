/** `lease.exports` lists its exports as own keys, like a plain instance's exports. */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { watModule } from './helpers/wat-module.js';

describe('lease.exports own keys', () => {
  it('lists every export of the module (and none the pool added) to Object.keys, spread and entries', async () => {
    const bytes = await watModule(`(module (memory (export "memory") 1) (global (export "g") i32 (i32.const 7))
      (func (export "one") (result i32) (i32.const 1)) (func (export "two") (result i32) (i32.const 2)))`);
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(bytes);
      const plain = Object.keys(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports);
      const lease = pool.instantiate(prepared);
      expect(Object.keys(lease.exports)).toEqual(plain);
      expect(Object.keys(lease.exports)).toEqual(lease.exportNames);
      // Reading one wraps it; the keys stay the same.
      expect((lease.exports.one as () => number)()).toBe(1);
      expect(Object.keys(lease.exports)).toEqual(plain);
      const spread = { ...lease.exports } as Record<string, unknown>;
      expect(Object.keys(spread)).toEqual(plain);
      expect((spread.two as () => number)()).toBe(2);
      expect(Object.entries(lease.exports).map(([k]) => k)).toEqual(plain);
      lease.release();
    } finally {
      pool.close();
    }
  });
});
