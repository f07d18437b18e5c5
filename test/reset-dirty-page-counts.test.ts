/**
 * What each dirty-page mode finds to restore: track-writes exactly the pages
 * written since the last reset (however many were written before), restore-
 * dirty every private page (its set only grows until a discard), madvise
 * with counting the pages the tenant wrote.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addon, NativeResetFlag, NativeResetMode, RESET_STAT } from '../src/native/addon.js';
import { resetV8Memory, type ResetSettings } from '../src/slots/memory-reset.js';
import { MappedMemory, patternBytes } from './support/reset-harness.js';

const PAGE = addon().pageSize;
const settings = (mode: ResetSettings['mode']): ResetSettings => ({ mode, keepResidentBytes: 0, maxResidentBytes: 64 << 20, trimEvery: 0 });
const pageSets = (pages: number) => fc.array(fc.uniqueArray(fc.nat(pages - 1), { maxLength: 48 }), { minLength: 1, maxLength: 5 });

function write(m: MappedMemory, pages: readonly number[], value: number): void {
  const bytes = m.bytes;
  for (const p of pages) bytes[p * PAGE + (p % 97)] = value;
}

describe('dirty page counts', () => {
  it('track-writes restores exactly the pages written since the last reset', () => {
    const m = new MappedMemory(patternBytes(500_000, 51), 16);
    // The first reset after mapping registers the range.
    resetV8Memory(m.memory.buffer, m.image, settings('track-writes'), { pool: m.resets, slot: m.state, key: 'counts:track' });
    fc.assert(
      fc.property(pageSets(m.osPages), (tenants) => {
        for (const [i, pages] of tenants.entries()) {
          write(m, pages, (i % 250) + 3);
          resetV8Memory(m.memory.buffer, m.image, settings('track-writes'), { pool: m.resets, slot: m.state, key: 'counts:track' });
          expect(m.state.last?.rearmed).toBe(false);
          expect(m.state.last?.writtenPages).toBe(pages.length);
          expect(m.state.last?.bytesCopied).toBe(pages.length * PAGE);
          expect(m.firstMismatch()).toBe(-1);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('restore-dirty restores every page made private since the last discard', () => {
    fc.assert(
      fc.property(pageSets(128), (tenants) => {
        const m = new MappedMemory(patternBytes(300_000, 52), 8);
        const seen = new Set<number>();
        for (const [i, pages] of tenants.entries()) {
          write(m, pages, (i % 250) + 3);
          for (const p of pages) seen.add(p);
          resetV8Memory(m.memory.buffer, m.image, settings('restore-dirty'), { pool: m.resets, slot: m.state, key: 'counts:restore' });
          expect(m.state.last?.privatePagesFound).toBe(seen.size);
          expect(m.state.last?.privatePagesKept).toBe(seen.size);
          expect(m.firstMismatch()).toBe(-1);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('madvise with counting reports the pages the tenant wrote and keeps none', () => {
    const m = new MappedMemory(patternBytes(300_000, 53), 8);
    const stats = new Float64Array(RESET_STAT.length);
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(m.osPages - 1), { maxLength: 64 }), (pages) => {
        write(m, pages, 7);
        addon().resetMemory(m.memory.buffer, m.image, NativeResetMode.madvise, 0, 0, NativeResetFlag.count, stats);
        expect(stats[RESET_STAT.foundPages]).toBe(pages.length);
        expect(stats[RESET_STAT.privatePagesKept]).toBe(0);
        expect(m.firstMismatch()).toBe(-1);
      }),
    );
  });
});
