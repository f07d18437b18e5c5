import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { processResources } from './helpers/native-child.js';

const PAGE = 4096;

function imageOf(length: number, seed: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i + seed) & 0xff);
}

describe('no descriptor or mapping leaks', () => {
  it('10,000 raw acquire/grow/release cycles over 3 images keep fds and maps flat', () => {
    const pool = new RawSlotPool({ limits: { maxSlots: 4, maxUnusedWarmSlots: 2, maxMemoryBytesPerSlot: '1MiB', guardBytes: '64KiB' } });
    const images = [pool.image(imageOf(3 * PAGE, 1)), pool.image(imageOf(PAGE, 2)), null];
    // Warm every slot first so the baseline includes them.
    for (let i = 0; i < 50; i++) {
      const lease = pool.acquire(images[i % 3] ?? null, { initialBytes: 8 * PAGE });
      lease.release();
    }
    const before = processResources();
    for (let i = 0; i < 10_000; i++) {
      const lease = pool.acquire(images[i % 3] ?? null, { initialBytes: 8 * PAGE });
      const view = new Uint8Array(lease.buffer);
      view[i % view.length] = 1;
      if (i % 7 === 0) lease.grow(PAGE);
      lease.release();
    }
    const after = processResources();
    pool.close();
    const closed = processResources();
    expect(after.fds).toBeLessThanOrEqual(before.fds);
    expect(after.maps).toBeLessThanOrEqual(before.maps);
    // close() unmaps the slots and closes their memfds.
    expect(closed.fds).toBeLessThan(after.fds);
    expect(closed.maps).toBeLessThan(after.maps);
  });

  it('10,000 instance acquire/release cycles keep fds and maps flat', async () => {
    const pool = createPool({ limits: { maxSlots: 4 } });
    // (module (memory 2) (data (i32.const 100) "abc") (func (export "f")))
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 2, 7, 5, 1, 1, 102, 0, 0, 10, 4, 1, 2, 0,
      11, 11, 10, 1, 0, 65, 228, 0, 11, 3, 97, 98, 99,
    ]);
    const prepared = await pool.prepare(bytes);
    expect(prepared.cow).toBe(true);
    for (let i = 0; i < 50; i++) pool.instantiate(prepared).release();
    const before = processResources();
    for (let i = 0; i < 10_000; i++) {
      const lease = pool.instantiate(prepared);
      (lease.exports.f as () => void)();
      lease.release();
    }
    const after = processResources();
    pool.close();
    expect(after.fds).toBeLessThanOrEqual(before.fds);
    expect(after.maps).toBeLessThanOrEqual(before.maps);
  });
});
