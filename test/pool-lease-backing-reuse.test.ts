/**
 * A pooled slot's lease backing serves its tenants one after another (and is
 * the registry's unregister token; a lease registers only if the job that
 * made it ends unreleased): a released lease is never reclaimed, whether it
 * was released in its own job or after, even once collected while a later
 * tenant holds the same slot; an unreleased lease after released ones on
 * that slot still is, dropped in its own job or after.
 */
import { describe, expect, it } from 'vitest';
import { createPool, type Lease } from '../src/index.js';
import { collectUntil } from './helpers/forced-gc.js';
import { callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

/** `bump` increments byte 0 and returns it: 1 on a fresh instance. */
const WAT = `(module
  (memory (export "mem") 1)
  (func (export "bump") (result i32)
    (i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1)))
    (i32.load8_u (i32.const 0))))`;

describe('one backing per slot, tenant after tenant', () => {
  it('released leases, collected while a later tenant holds their slot, reclaim nothing', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const released = new FinalizationRegistry<number>(() => (collected += 1));
    let collected = 0;
    await (async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        const lease = pool.instantiate(prepared);
        expect(callExport(lease.exports, 'bump')).toBe(1);
        // Odd ones outlive their job, so they were registered when released.
        if (i % 2 === 1) await new Promise((resolve) => setImmediate(resolve));
        lease.release();
        released.register(lease, i);
      }
      // The last one was released in its job; the job ends with the slot idle.
      await new Promise((resolve) => setImmediate(resolve));
    })();
    const current = pool.instantiate(prepared);
    const memory = current.memory;
    // The released leases are gone; had their registrations survived, the slot `current` holds would be retired now.
    expect(await collectUntil(() => collected === 5)).toBe(true);
    expect(await collectUntil(() => pool.stats().leases.reclaimed > 0, 5)).toBe(false);
    const stats = pool.stats();
    expect(stats.leases).toEqual({ active: 1, acquired: 6, released: 5, reclaimed: 0 });
    expect(stats.retired).toBe(0);
    expect(current.memory).toBe(memory);
    expect(callExport(current.exports, 'bump')).toBe(1);
    current.release();
    pool.close();
  });

  it.each([
    ['dropped in the job that made it', false],
    ['dropped after its job ended', true],
  ])('an unreleased lease after released ones on the same slot is reclaimed (%s), and its memory never handed out again', async (_, later) => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const memories: (WebAssembly.Memory | null)[] = [];
    await (async (): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        const lease = pool.instantiate(prepared);
        callExport(lease.exports, 'bump');
        lease.release();
      }
      const lost: Lease = pool.instantiate(prepared);
      memories.push(lost.memory);
      if (later) await new Promise((resolve) => setImmediate(resolve));
      callExport(lost.exports, 'bump');
    })();
    expect(await collectUntil(() => pool.stats().leases.reclaimed === 1)).toBe(true);
    const stats = pool.stats();
    expect(stats.leases).toEqual({ active: 0, acquired: 3, released: 2, reclaimed: 1 });
    expect(stats.retired).toBe(1);
    const next = pool.instantiate(prepared);
    expect(next.memory).not.toBe(memories[0]);
    expect(callExport(next.exports, 'bump')).toBe(1);
    next.release();
    expect(outcomeOf(() => next.memory)).toMatchObject({ threw: 'CowpoolError:LEASE_RELEASED' });
    pool.close();
  });
});
