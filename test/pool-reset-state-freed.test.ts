/**
 * A pool's reset state (counters, each module's auto policy) is its own and
 * is dropped by close(): pools that served many modules and were closed
 * leave nothing behind, and a new pool starts from nothing.
 */
import { describe, expect, it } from 'vitest';
import { createPool, poolResetState } from '../src/pool/instance-pool.js';
import { RawSlotPool, rawSlotPoolResetState } from '../src/pool/raw-slot-pool.js';
import { moduleVariants } from './support/module-variants.js';

const POOLS = 300;

describe('pool reset state after close', () => {
  it('holds no module key once the pool is closed, and a new pool counts only its own resets', async () => {
    const variant = await moduleVariants();
    for (let i = 0; i < POOLS; i++) {
      const pool = createPool({ strategy: 'cow', reset: { mode: 'auto' }, limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(variant(i));
      const lease = pool.instantiate(prepared);
      (lease.exports.put as (v: number) => void)(i & 0xff);
      lease.release();
      expect(poolResetState(pool).moduleKeys).toBe(1);
      expect(poolResetState(pool).policyOf(prepared.slotKey)).toBeDefined();
      pool.close();
      expect(poolResetState(pool).moduleKeys).toBe(0);
      expect(pool.stats().reset).toEqual({});
    }

    const fresh = createPool({ strategy: 'cow', reset: { mode: 'auto' }, limits: { maxSlots: 1 } });
    try {
      expect(fresh.stats().reset).toEqual({});
      const prepared = await fresh.prepare(variant(0));
      fresh.instantiate(prepared).release();
      const counters = Object.values(fresh.stats().reset);
      expect(counters.reduce((sum, c) => sum + c.resets, 0)).toBe(1);
      expect(fresh.stats().modules[0]?.resetMode?.resets).toBe(1);
    } finally {
      fresh.close();
    }
  });

  it('holds nothing for a raw slot pool once it is closed', () => {
    const pool = new RawSlotPool({ reset: { mode: 'auto' }, limits: { maxSlots: 1 } });
    const image = pool.image(new Uint8Array([1, 2, 3]));
    const lease = pool.acquire(image, { initialBytes: 65536 });
    new Uint8Array(lease.buffer)[10] = 1;
    lease.release();
    expect(rawSlotPoolResetState(pool).moduleKeys).toBe(1);
    expect(Object.keys(pool.stats().reset).length).toBeGreaterThan(0);
    pool.close();
    expect(rawSlotPoolResetState(pool).moduleKeys).toBe(0);
    expect(pool.stats().reset).toEqual({});
  });
});
