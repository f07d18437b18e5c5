/**
 * A prepared module's image keeps the addon's handle to itself: no memfd to
 * read, and no release() that would break the module for good; its pool
 * releases it on close(). An image made with RawSlotPool#image is the
 * user's to release.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { moduleVariants } from './support/module-variants.js';

describe('pool images', () => {
  it("hide a prepared module's native handle and refuse release()", async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare((await moduleVariants())(3));
      expect('native' in prepared.image).toBe(false);
      expect(Object.keys(prepared.image)).not.toContain('native');
      expect(() => prepared.image.release()).toThrow(expect.objectContaining({ code: 'WRONG_OWNER' }));
      // The module still serves tenants with its image.
      const lease = pool.instantiate(prepared);
      expect(new DataView((lease.exports.memory as WebAssembly.Memory).buffer).getUint32(0, true)).toBe(3);
      lease.release();
    } finally {
      pool.close();
    }
  });

  it('let a raw slot pool user release an image they made', () => {
    const pool = new RawSlotPool({ limits: { maxSlots: 1 } });
    const image = pool.image(new Uint8Array([1, 2, 3]));
    expect('native' in image).toBe(false);
    pool.acquire(image, { initialBytes: 65536 }).release();
    pool.close();
    expect(() => image.release()).not.toThrow();
  });
});
