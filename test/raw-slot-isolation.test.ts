import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';

const PAGE = 4096;
const pool = new RawSlotPool({ limits: { maxSlots: 2, maxMemoryBytesPerSlot: '1MiB', guardBytes: '64KiB' } });
afterAll(() => pool.close());

function imageBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff || 1;
  return out;
}

function expectImageThenZeros(buffer: ArrayBuffer, image: Uint8Array, size: number): void {
  expect(buffer.byteLength).toBe(size);
  const view = new Uint8Array(buffer);
  expect(Buffer.compare(view.subarray(0, image.length), image)).toBe(0);
  const firstNonZero = view.subarray(image.length).findIndex((b) => b !== 0);
  expect(firstNonZero, 'bytes past the image must be zero').toBe(-1);
}

describe('raw slots: a tenant never sees the previous tenant', () => {
  it('writes anywhere, including grown pages, are gone for the next tenant (property)', () => {
    const data = imageBytes(3 * PAGE + 100, 7);
    const image = pool.image(data);
    const hits0 = pool.stats().affinity.hits;
    let runs = 0;
    fc.assert(
      fc.property(
        // Offsets as fractions of the tenant's size, so every write lands (grown pages included).
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 40 }),
        fc.nat({ max: 64 }),
        (fractions, growPages) => {
          runs++;
          const lease = pool.acquire(image, { initialBytes: 128 * PAGE });
          if (growPages > 0) lease.grow(growPages * PAGE);
          const view = new Uint8Array(lease.buffer);
          expect(view.length).toBe((128 + growPages) * PAGE);
          for (const f of fractions) view[Math.floor(f * view.length)] = 0xee;
          view[data.length] = 0xee;
          view[view.length - 1] = 0xee;
          lease.release();
          const next = pool.acquire(image, { initialBytes: 128 * PAGE });
          try {
            expectImageThenZeros(next.buffer, data, 128 * PAGE);
          } finally {
            next.release();
          }
        },
      ),
      { numRuns: 60 },
    );
    // Every acquire but the first reused the same slot: the tenants really shared it.
    expect(runs).toBe(60);
    expect(pool.stats().affinity.hits - hits0).toBe(2 * runs - 1);
  });

  it('grown pages read as zero and growth past maxBytes is refused', () => {
    const lease = pool.acquire(null, { initialBytes: 4 * PAGE, maxBytes: 8 * PAGE });
    try {
      new Uint8Array(lease.buffer).fill(9);
      expect(lease.grow(4 * PAGE)).toBe(4 * PAGE);
      const view = new Uint8Array(lease.buffer);
      expect(view.length).toBe(8 * PAGE);
      expect(view[4 * PAGE - 1]).toBe(9);
      expect(view.subarray(4 * PAGE).every((b) => b === 0)).toBe(true);
      expect(() => lease.grow(PAGE)).toThrow(expect.objectContaining({ code: 'GROW_LIMIT' }));
      expect(lease.size).toBe(8 * PAGE);
    } finally {
      lease.release();
    }
  });

  it('a slot that served one image and then another holds only the second', () => {
    const small = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB', guardBytes: 0 } });
    try {
      const big = small.image(imageBytes(10 * PAGE, 1));
      const tinyData = imageBytes(PAGE, 2);
      const tiny = small.image(tinyData);
      const a = small.acquire(big, { initialBytes: 16 * PAGE });
      new Uint8Array(a.buffer).fill(0x55, 0, 16 * PAGE);
      a.release();
      const b = small.acquire(tiny, { initialBytes: 16 * PAGE });
      expectImageThenZeros(b.buffer, tinyData, 16 * PAGE);
      b.release();
      const c = small.acquire(null, { initialBytes: 16 * PAGE });
      expectImageThenZeros(c.buffer, new Uint8Array(0), 16 * PAGE);
      c.release();
      expect(small.stats().affinity.evicted + small.stats().affinity.cold).toBeGreaterThanOrEqual(2);
    } finally {
      small.close();
    }
  });

  it('release detaches the buffer a tenant kept', () => {
    const lease = pool.acquire(null, { initialBytes: 4 * PAGE });
    const kept = lease.buffer;
    const view = new Uint8Array(kept);
    lease.release();
    expect(kept.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(() => lease.buffer).toThrow(expect.objectContaining({ code: 'LEASE_RELEASED' }));
    expect(() => lease.release()).toThrow(expect.objectContaining({ code: 'LEASE_RELEASED' }));
  });

  it('validates sizes with INVALID_ARGUMENT naming the field', () => {
    expect(() => pool.acquire(null, { initialBytes: 100 })).toThrow(/initialBytes/);
    expect(() => pool.acquire(null, { initialBytes: PAGE, maxBytes: 4 << 20 })).toThrow(/maxMemoryBytesPerSlot/);
    const image = pool.image(imageBytes(3 * PAGE, 3));
    expect(() => pool.acquire(image, { initialBytes: PAGE })).toThrow(/does not fit/);
  });
});
