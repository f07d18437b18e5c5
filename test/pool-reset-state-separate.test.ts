/**
 * Two pools serving the same bytes keep separate reset state: a pool's
 * counters and its modules' reset statistics show its own resets only, and
 * each pool's auto policy sees only its own slots, whatever the other's
 * settings.
 */
import { describe, expect, it } from 'vitest';
import { createPool, poolResetState } from '../src/pool/instance-pool.js';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { moduleVariants } from './support/module-variants.js';

describe('pool reset state between pools', () => {
  it('keeps counters and module statistics apart for two pools preparing the same bytes', async () => {
    const bytes = (await moduleVariants())(7);
    const a = createPool({ strategy: 'cow', reset: { mode: 'madvise' }, limits: { maxSlots: 1 } });
    const b = createPool({ strategy: 'cow', reset: { mode: 'track-writes' }, limits: { maxSlots: 1 } });
    try {
      const pa = await a.prepare(bytes);
      const pb = await b.prepare(bytes);
      expect(pa.slotKey).toBe(pb.slotKey);
      for (let i = 0; i < 100; i++) {
        const lease = b.instantiate(pb);
        (lease.exports.put as (v: number) => void)(i);
        lease.release();
      }
      a.instantiate(pa).release();

      const stats = a.stats();
      expect(Object.keys(stats.reset)).toEqual(['madvise']);
      expect(stats.reset.madvise?.resets).toBe(1);
      expect(stats.modules[0]?.resetMode).toEqual({ requested: 'madvise', active: 'madvise', resets: 1 });
      expect(b.stats().modules[0]?.resetMode?.resets).toBe(100);
      expect(Object.values(b.stats().reset).reduce((sum, c) => sum + c.resets, 0)).toBe(100);
    } finally {
      a.close();
      b.close();
    }
  });

  it('gives each pool its own auto policy for the same bytes', async () => {
    const bytes = (await moduleVariants())(8);
    const a = createPool({ strategy: 'cow', reset: { mode: 'auto', trimEvery: 0 }, limits: { maxSlots: 1 } });
    const b = createPool({ strategy: 'cow', reset: { mode: 'auto' }, limits: { maxSlots: 1 } });
    try {
      const pa = await a.prepare(bytes);
      const pb = await b.prepare(bytes);
      for (let i = 0; i < 50; i++) b.instantiate(pb).release();
      for (let i = 0; i < 3; i++) a.instantiate(pa).release();
      const policyA = poolResetState(a).policyOf(pa.slotKey);
      const policyB = poolResetState(b).policyOf(pb.slotKey);
      expect(policyA).toBeDefined();
      expect(policyA).not.toBe(policyB);
      expect(policyA?.report().resets).toBe(3);
      expect(policyB?.report().resets).toBe(50);
      expect(a.stats().modules[0]?.resetMode?.resets).toBe(3);
    } finally {
      a.close();
      b.close();
    }
  });

  it('keeps counters apart for two raw slot pools with the same image bytes', () => {
    const a = new RawSlotPool({ reset: { mode: 'madvise' }, limits: { maxSlots: 1 } });
    const b = new RawSlotPool({ reset: { mode: 'restore-dirty' }, limits: { maxSlots: 1 } });
    try {
      const ia = a.image(new Uint8Array([5, 6, 7]));
      const ib = b.image(new Uint8Array([5, 6, 7]));
      for (let i = 0; i < 20; i++) b.acquire(ib, { initialBytes: 65536 }).release();
      a.acquire(ia, { initialBytes: 65536 }).release();
      expect(Object.keys(a.stats().reset)).toEqual(['madvise']);
      expect(a.stats().reset.madvise?.resets).toBe(1);
      expect(Object.values(b.stats().reset).reduce((sum, c) => sum + c.resets, 0)).toBe(20);
    } finally {
      a.close();
      b.close();
    }
  });
});
