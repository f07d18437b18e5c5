import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { residentPrivateBytes } from '../src/slots/memory-reset.js';
import { watModule } from './helpers/wat-module.js';
import { touchZeroArea } from './support/no-zero-page.js';

const PAGE = 4096;

describe('restore-dirty: pages tenants stopped writing leave the private set', () => {
  it('after tenants stop writing, the private set drains within a sweep period, long before a trim', async () => {
    const pool = createPool({ reset: { mode: 'restore-dirty', trimEvery: 1000, maxResidentBytes: '16MiB' } });
    try {
      const prepared = await pool.prepare(await watModule('(module (memory (export "memory") 16) (data (i32.const 0) "image"))'));
      let privateWhileDirty = 0;
      for (let i = 0; i < 20; i++) {
        const lease = pool.instantiate(prepared);
        const view = new Uint8Array(lease.memory!.buffer);
        for (let off = 0; off < 256 * PAGE; off += PAGE) view[off] = 0xa0 + (i % 16);
        lease.release();
      }
      // Restored in place, the written pages stay private between tenants.
      const probe = pool.instantiate(prepared);
      privateWhileDirty = residentPrivateBytes(probe.memory!.buffer);
      probe.release();
      expect(privateWhileDirty).toBeGreaterThanOrEqual(200 * PAGE);
      let privateWhenClean = Number.POSITIVE_INFINITY;
      let bytesOk = true;
      for (let i = 0; i < 40; i++) {
        const lease = pool.instantiate(prepared);
        const view = new Uint8Array(lease.memory!.buffer);
        // The next tenant reads the whole memory; on a host without a shared
        // zero page such reads must not become private pages either.
        bytesOk &&= view[0] === 'i'.charCodeAt(0) && view.subarray(5).every((b) => b === 0);
        touchZeroArea(lease.memory!.buffer);
        privateWhenClean = residentPrivateBytes(lease.memory!.buffer);
        lease.release();
      }
      expect(bytesOk).toBe(true);
      expect(privateWhenClean).toBeLessThanOrEqual(PAGE);
      expect(pool.stats().resetFailures).toBe(0);
      expect(pool.stats().reset['restore-dirty']?.trims ?? 0).toBe(0);
    } finally {
      pool.close();
    }
  });
});
