/**
 * stats().memory reports what resets restored and what stays resident. The
 * resident figure is the addon's own page scan, so it is checked against
 * /proc/self/smaps too: a scanner that miscounts cannot make both agree.
 */
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { createPool } from '../src/pool/instance-pool.js';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { watModule } from './helpers/wat-module.js';
import { rangeSmaps } from './support/smaps.js';

const PAGE = 4096;
const WAT = '(module (memory (export "memory") 2) (data (i32.const 0) "image"))';

async function dirtyTenPages(mode: 'madvise' | 'restore-dirty') {
  const pool = createPool({ reset: { mode } });
  const prepared = await pool.prepare(await watModule(WAT));
  const lease = pool.instantiate(prepared);
  const memory = lease.memory as WebAssembly.Memory;
  const view = new Uint8Array(memory.buffer);
  for (let i = 0; i < 10; i++) view[i * PAGE + 1] = 0xff;
  lease.release();
  const stats = pool.stats();
  // What the kernel says is anonymous (written, private) in the memory's range after the reset.
  const smaps = rangeSmaps(addon().memoryAddress(memory.buffer), memory.buffer.byteLength);
  pool.close();
  return { memory: stats.memory, smaps };
}

describe('stats().memory: what resets restored and what stays resident', () => {
  it('restore-dirty copies exactly the written pages back and keeps exactly them resident', async () => {
    const { memory, smaps } = await dirtyTenPages('restore-dirty');
    expect(memory.bytesRestored).toBe(10 * PAGE);
    expect(memory.residentPrivateBytes).toBe(10 * PAGE);
    expect(smaps.mappings).toBeGreaterThan(0);
    expect(smaps.anonymous).toBe(10 * PAGE);
  });

  it('madvise copies nothing and keeps nothing resident', async () => {
    const { memory, smaps } = await dirtyTenPages('madvise');
    expect(memory).toEqual({ bytesRestored: 0, residentPrivateBytes: 0 });
    expect(smaps.mappings).toBeGreaterThan(0);
    expect(smaps.anonymous).toBe(0);
  });

  it('the raw slot pool reports the same counters', () => {
    const pool = new RawSlotPool({ reset: { mode: 'restore-dirty' }, limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB', guardBytes: 0 } });
    try {
      const image = pool.image(new Uint8Array(8 * PAGE).fill(3));
      const lease = pool.acquire(image, { initialBytes: 16 * PAGE });
      const view = new Uint8Array(lease.buffer);
      for (let i = 0; i < 4; i++) view[i * PAGE] = 9;
      lease.release();
      // The four written image pages, copied back and kept; the rest of the slot is truncated away.
      expect(pool.stats().memory).toEqual({ bytesRestored: 4 * PAGE, residentPrivateBytes: 4 * PAGE });
    } finally {
      pool.close();
    }
  });
});
