import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { watModule } from './helpers/wat-module.js';

describe('pool exhausted, policy wait: a release wakes every waiter that can use it', () => {
  it('a waiter for another module gets the freed slot although an older waiter cannot use it', async () => {
    const pool = createPool({ limits: { maxSlots: 2, maxSlotsPerImage: 1 }, exhausted: { policy: 'wait', timeoutMs: 400 } });
    try {
      const a = await pool.prepare(await watModule('(module (memory 1) (data (i32.const 0) "A"))'), { name: 'a' });
      const b = await pool.prepare(await watModule('(module (memory 1) (data (i32.const 0) "B"))'), { name: 'b' });
      const heldA = pool.instantiate(a);
      const heldB = pool.instantiate(b);
      // Queued first: can never be served while heldA lives (maxSlotsPerImage 1).
      const waitingA = pool.instantiateAsync(a);
      // Queued second: can be served as soon as any slot frees up.
      const waitingB = pool.instantiateAsync(b);
      heldB.release();
      const leaseB = await waitingB;
      expect(new Uint8Array(leaseB.memory!.buffer)[0]).toBe('B'.charCodeAt(0));
      await expect(waitingA).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
      leaseB.release();
      heldA.release();
    } finally {
      pool.close();
    }
  });
});
