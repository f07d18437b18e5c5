/**
 * A page the tenant wrote and the kernel then swapped out is not PRESENT, but
 * it still holds the tenant's bytes: every dirty-page reset must count it and
 * restore it (DESIGN invariant 6; the bug wasmtime fixed in PR #14357).
 *
 * Real swap-out needs a swap device. Where there is none, MADV_PAGEOUT leaves
 * private pages present, so the pagemap logic is also checked on synthetic
 * entries and categories: raw /proc/self/pagemap entries (the pread source)
 * and PAGEMAP_SCAN category sets (what the kernel filter and our post-filter
 * keep).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { resetV8Memory, type ResetSettings } from '../src/slots/memory-reset.js';
import { MappedMemory, patternBytes } from './support/reset-harness.js';

const PRESENT = 1n << 63n;
const SWAPPED = 1n << 62n;
const FILE_SHARED = 1n << 61n;
const UFFD_WP = 1n << 57n;
const EXCLUSIVE = 1n << 56n;
const SOFT_DIRTY = 1n << 55n;
/** Bits 0-54: PFN, or swap type (0-4) and offset (5-54). */
const LOW_BITS = (1n << 55n) - 1n;

const c = addon().scanConstants;

describe('raw pagemap entries (pread source)', () => {
  it('a swapped entry of a private mapping is private, whatever its swap type, offset and soft-dirty bit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: LOW_BITS }), fc.boolean(), fc.boolean(), (low, softDirty, exclusive) => {
        const entry = SWAPPED | low | (softDirty ? SOFT_DIRTY : 0n) | (exclusive ? EXCLUSIVE : 0n);
        const r = addon().classifyPagemapEntry(entry);
        expect(r.private).toBe(true);
        expect(r.categories & c.PAGE_IS_SWAPPED).toBe(c.PAGE_IS_SWAPPED);
      }),
    );
  });

  it('a swapped entry carrying the userfaultfd write-protect bit is a protection marker, not private', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: LOW_BITS }), (low) => {
        expect(addon().classifyPagemapEntry(SWAPPED | UFFD_WP | low).private).toBe(false);
      }),
    );
  });

  it('a swapped file or shared page is not this mapping\'s own', () => {
    expect(addon().classifyPagemapEntry(SWAPPED | FILE_SHARED | 0x1234n).private).toBe(false);
  });

  it('present pages: anonymous ones are private, file pages are not, a non-exclusive one may be the zero page', () => {
    expect(addon().classifyPagemapEntry(PRESENT | EXCLUSIVE | 0x42n)).toEqual({ categories: c.PAGE_IS_PRESENT, private: true });
    expect(addon().classifyPagemapEntry(PRESENT | FILE_SHARED | EXCLUSIVE | 0x42n).private).toBe(false);
    const shared = addon().classifyPagemapEntry(PRESENT | 0x3b34n);
    expect(shared.private).toBe(true);
    expect(shared.categories & c.maybeZeroPage).toBe(c.maybeZeroPage);
    expect(addon().classifyPagemapEntry(0n).private).toBe(false);
  });
});

describe('PAGEMAP_SCAN category sets', () => {
  const bits = [c.PAGE_IS_WPALLOWED, c.PAGE_IS_WRITTEN, c.PAGE_IS_FILE, c.PAGE_IS_PRESENT, c.PAGE_IS_SWAPPED, c.PAGE_IS_PFNZERO];
  const all = Array.from({ length: 1 << bits.length }, (_, n) => bits.reduce((acc, bit, i) => (n & (1 << i) ? acc | bit : acc), 0));

  /** The kernel's documented matching rule, applied to the masks the addon passes. */
  function kernelKeeps(categories: number): boolean {
    const v = categories ^ c.privateInverted;
    return (v & c.privateMask) === c.privateMask && (c.privateAnyof === 0 || (v & c.privateAnyof) !== 0);
  }

  it('the kernel filter keeps exactly the present or swapped pages that are neither file nor the zero page', () => {
    for (const cat of all) {
      const expected = (cat & (c.PAGE_IS_PRESENT | c.PAGE_IS_SWAPPED)) !== 0 && (cat & (c.PAGE_IS_FILE | c.PAGE_IS_PFNZERO)) === 0;
      expect(kernelKeeps(cat), `categories ${cat}`).toBe(expected);
    }
  });

  it('a written page that was swapped out counts, registered for tracking or not', () => {
    expect(addon().isPrivateCategories(c.PAGE_IS_SWAPPED)).toBe(true);
    expect(addon().isPrivateCategories(c.PAGE_IS_SWAPPED | c.PAGE_IS_WRITTEN)).toBe(true);
    expect(addon().isPrivateCategories(c.PAGE_IS_SWAPPED | c.PAGE_IS_WRITTEN | c.PAGE_IS_WPALLOWED)).toBe(true);
  });

  it('of what the kernel keeps, only unwritten write-protected swap entries are dropped', () => {
    for (const cat of all) {
      const marker = (cat & c.PAGE_IS_SWAPPED) !== 0 && (cat & c.PAGE_IS_WPALLOWED) !== 0
        && (cat & c.PAGE_IS_WRITTEN) === 0 && (cat & c.PAGE_IS_PRESENT) === 0;
      expect(addon().isPrivateCategories(cat), `categories ${cat}`).toBe(kernelKeeps(cat) && !marker);
    }
  });
});

/** True when a swap device is on: /proc/swaps lists one after its header line. */
function swapActive(): boolean {
  return readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
}

describe.each([
  { mode: 'restore-dirty', disable: [] },
  { mode: 'restore-dirty', disable: ['pagemap_scan'] },
  { mode: 'track-writes', disable: [] },
] as const)('$mode (disable: $disable) with pages paged out', ({ mode, disable }) => {
  it('counts and restores written pages after MADV_PAGEOUT, swapped or not', () => {
    const page = addon().pageSize;
    const m = new MappedMemory(patternBytes(100_000, 21), 4);
    const settings: ResetSettings = { mode, keepResidentBytes: 0, maxResidentBytes: 16 << 20, trimEvery: 0, disable };
    const key = `swap:${mode}:${disable.join(',')}`;
    // First reset: track-writes registers the range.
    resetV8Memory(m.memory.buffer, m.image, settings, { pool: m.resets, slot: m.state, key });
    const targets = [2, 5, m.imagePages + 1, m.osPages - 1];
    const bytes = m.bytes;
    for (const p of targets) bytes[p * page + 17] = (bytes[p * page + 17] ?? 0) ^ 0xff;
    let swapped = 0;
    for (const p of targets) {
      const r = addon().pageOut(m.memory.buffer, p * page, page);
      swapped += r.swapped;
      // A page is somewhere: in memory or in swap, never lost.
      expect(r.swapped + r.present).toBe(1);
    }
    if (!swapActive()) expect(swapped).toBe(0);
    resetV8Memory(m.memory.buffer, m.image, settings, { pool: m.resets, slot: m.state, key });
    expect(m.state.last?.writtenPages ?? m.state.last?.privatePagesFound).toBeGreaterThanOrEqual(targets.length);
    expect(m.firstMismatch()).toBe(-1);
  });
});
