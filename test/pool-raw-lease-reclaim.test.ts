import { describe, expect, it } from 'vitest';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { collectUntil } from './helpers/forced-gc.js';

const PAGE = 4096;

describe('RawSlotPool: a lease dropped without release()', () => {
  it('is reclaimed by garbage collection: its slot is unmapped (the kept buffer detached), counted, and the pool serves again', async () => {
    const pool = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB', guardBytes: 0 } });
    try {
      const image = pool.image(new Uint8Array(PAGE).fill(7));
      // The lease becomes unreachable; only its buffer is kept.
      const kept = ((): Uint8Array => {
        const lease = pool.acquire(image, { initialBytes: 4 * PAGE });
        const view = new Uint8Array(lease.buffer);
        view[PAGE] = 0xee;
        return view;
      })();
      expect(() => pool.acquire(image, { initialBytes: 4 * PAGE })).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
      const reclaimed = await collectUntil(() => pool.stats().leases.reclaimed === 1);
      expect(reclaimed).toBe(true);
      expect(pool.stats().leases.active).toBe(0);
      // Unmapped, not handed on: the kept view can no longer reach the pages.
      expect(kept.length).toBe(0);
      const next = pool.acquire(image, { initialBytes: 4 * PAGE });
      const view = new Uint8Array(next.buffer);
      expect(view[0]).toBe(7);
      expect(view[PAGE]).toBe(0);
      next.release();
    } finally {
      pool.close();
    }
  });
});
