import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { watModule } from './helpers/wat-module.js';

const PAGE = 4096;
const WAT = '(module (memory (export "memory") 2) (data (i32.const 0) "image"))';

async function dirtyTenPages(mode: 'madvise' | 'restore-dirty') {
  const pool = createPool({ reset: { mode } });
  const prepared = await pool.prepare(await watModule(WAT));
  const lease = pool.instantiate(prepared);
  const view = new Uint8Array(lease.memory!.buffer);
  for (let i = 0; i < 10; i++) view[i * PAGE + 1] = 0xff;
  lease.release();
  const stats = pool.stats();
  pool.close();
  return stats.memory;
}

describe('stats().memory: what resets restored and what stays resident', () => {
  it('restore-dirty copies the written pages back and keeps them resident', async () => {
    const memory = await dirtyTenPages('restore-dirty');
    expect(memory.bytesRestored).toBeGreaterThanOrEqual(10 * PAGE);
    expect(memory.residentPrivateBytes).toBeGreaterThanOrEqual(10 * PAGE);
  });

  it('madvise copies nothing and keeps nothing resident', async () => {
    expect(await dirtyTenPages('madvise')).toEqual({ bytesRestored: 0, residentPrivateBytes: 0 });
  });

  it('the raw slot pool reports the same counters', () => {
    const pool = new RawSlotPool({ reset: { mode: 'restore-dirty' }, limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB', guardBytes: 0 } });
    try {
      const image = pool.image(new Uint8Array(8 * PAGE).fill(3));
      const lease = pool.acquire(image, { initialBytes: 16 * PAGE });
      const view = new Uint8Array(lease.buffer);
      for (let i = 0; i < 4; i++) view[i * PAGE] = 9;
      lease.release();
      expect(pool.stats().memory.bytesRestored).toBeGreaterThanOrEqual(4 * PAGE);
    } finally {
      pool.close();
    }
  });
});
