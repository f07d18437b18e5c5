/**
 * DESIGN invariant 8: a tenant that only reads leaves nothing to reset. Its
 * reads are made to leave what they leave on a host without a shared zero
 * page (touchZeroArea), and the kernel's own smaps must then show no
 * anonymous page in the memory: every page a tenant can read is a page of
 * the image file, data or hole.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { addon } from '../src/native/addon.js';
import { residentPrivateBytes, resetV8Memory, type ResetSettings } from '../src/slots/memory-reset.js';
import { watModule } from './helpers/wat-module.js';
import { touchZeroArea } from './support/no-zero-page.js';
import { MappedMemory, MODE_CASES, patternBytes } from './support/reset-harness.js';
import { rangeSmaps } from './support/smaps.js';

const PAGE = addon().pageSize;
const TENANTS = 6;

/** Private pages a mode keeps by design after any tenant: keep-resident's copied prefix. */
function keptByDesign(settings: ResetSettings, memoryBytes: number): number {
  return settings.mode === 'keep-resident' ? Math.min(settings.keepResidentBytes, memoryBytes) / PAGE : 0;
}

describe('a tenant that only reads leaves nothing private', () => {
  describe.each(MODE_CASES)('$name', ({ settings }) => {
    it.each([
      ['data, then a sparse tail', patternBytes(150_000, 61)],
      ['no data at all', new Uint8Array(0)],
    ])('%s: 0 pages dirty, 0 bytes restored, 0 private pages kept', (_, data) => {
      const m = new MappedMemory(data, 16);
      const buffer = m.memory.buffer;
      const address = addon().memoryAddress(buffer);
      const kept = keptByDesign(settings, buffer.byteLength);
      const key = `read-only:${settings.mode}:${data.length}`;
      // The first reset registers track-writes' range; not a tenant's.
      resetV8Memory(buffer, m.image, settings, { pool: m.resets, slot: m.state, key });
      for (let tenant = 0; tenant < TENANTS; tenant++) {
        // Reads every byte (and, as a host without a zero page would, makes
        // anonymous pages of what it read).
        expect(m.firstMismatch()).toBe(-1);
        resetV8Memory(buffer, m.image, settings, { pool: m.resets, slot: m.state, key });
        const last = m.state.last!;
        expect(last.writtenPages ?? 0, `tenant ${tenant}: written pages`).toBe(0);
        expect(last.privatePagesFound ?? 0, `tenant ${tenant}: private pages found`).toBe(0);
        expect(last.bytesCopied, `tenant ${tenant}: bytes restored`).toBe(kept * PAGE);
        if (last.privatePagesKept !== null) expect(last.privatePagesKept, `tenant ${tenant}: private pages kept`).toBe(kept);
        expect(residentPrivateBytes(buffer)).toBe(kept * PAGE);
        // The kernel's view, independent of the addon's scanner.
        const smaps = rangeSmaps(address, buffer.byteLength);
        expect(smaps.mappings, 'one file mapping covers the memory').toBe(1);
        expect(smaps.fileBacked).toBe(1);
        expect(smaps.anonymous, `tenant ${tenant}: anonymous bytes`).toBe(kept * PAGE);
      }
    });
  });

  it('in a pool, with and without data, in every fixed mode: no bytes restored, no private bytes kept', async () => {
    const withData = await watModule('(module (memory (export "memory") 8) (data (i32.const 100) "some data"))');
    const noData = await watModule('(module (memory (export "memory") 8))');
    for (const mode of ['madvise', 'restore-dirty', 'track-writes', 'auto'] as const) {
      const pool = createPool({ reset: { mode } });
      try {
        for (const bytes of [withData, noData]) {
          const prepared = await pool.prepare(bytes);
          expect(prepared.image.byteLength, 'the image spans the initial memory').toBe(8 * 65536);
          for (let tenant = 0; tenant < TENANTS; tenant++) {
            const lease = pool.instantiate(prepared);
            const buffer = lease.memory!.buffer;
            const view = new Uint8Array(buffer);
            let sum = 0;
            for (let i = 0; i < view.length; i++) sum += view[i] as number;
            expect(sum).toBe(bytes === withData ? [...'some data'].reduce((a, c) => a + c.charCodeAt(0), 0) : 0);
            touchZeroArea(buffer);
            expect(rangeSmaps(addon().memoryAddress(buffer), buffer.byteLength).anonymous, `${mode}: anonymous bytes`).toBe(0);
            lease.release();
          }
        }
        expect(pool.stats().memory.bytesRestored, `${mode}: bytes restored`).toBe(0);
        expect(pool.stats().memory.residentPrivateBytes, `${mode}: private bytes kept`).toBe(0);
        expect(pool.stats().resetFailures).toBe(0);
      } finally {
        pool.close();
      }
    }
  });
});
