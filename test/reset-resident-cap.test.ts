/**
 * restore-dirty keeps restored pages private, so without a cap the private
 * set would creep up to the whole slot when tenants touch different pages.
 * Over 10,000 tenants with random dirty sets it stays under maxResidentBytes
 * after every reset, and trimEvery drops it to nothing on schedule. The
 * addon's page scan measures the private set; /proc/self/smaps confirms it
 * where it matters (the scan is what the cap itself relies on).
 */
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { residentPrivateBytes, resetV8Memory, type ResetSettings } from '../src/slots/memory-reset.js';
import { MappedMemory, patternBytes, WASM_PAGE } from './support/reset-harness.js';
import { rangeSmaps } from './support/smaps.js';
import { xorshift32 } from '../src/util/statistics.js';

const PAGE = addon().pageSize;
const CYCLES = 10_000;
const CAP = 256 * 1024;

describe.each([
  { mode: 'restore-dirty' as const, disable: [] },
  { mode: 'restore-dirty' as const, disable: ['pagemap_scan' as const] },
  { mode: 'track-writes' as const, disable: [] },
])('$mode (disable: $disable) under maxResidentBytes', ({ mode, disable }) => {
  it(`stays at or under ${CAP} private bytes after each of ${CYCLES} resets`, () => {
    const m = new MappedMemory(patternBytes((1 << 20) + 4321, 11), (4 << 20) / WASM_PAGE);
    const settings: ResetSettings = { mode, keepResidentBytes: 0, maxResidentBytes: CAP, trimEvery: 0, disable };
    const next = xorshift32(0x5eed);
    let worstAfter = 0;
    let worstBefore = 0;
    let overCapResets = 0;
    let kernelChecks = 0;
    const kernel = () => rangeSmaps(addon().memoryAddress(m.memory.buffer), m.memory.buffer.byteLength).anonymous;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const bytes = m.bytes;
      const dirty = next() % 24;
      for (let i = 0; i < dirty; i++) bytes[(next() % m.osPages) * PAGE + (next() % PAGE)] = (next() % 255) + 1;
      const before = residentPrivateBytes(m.memory.buffer);
      worstBefore = Math.max(worstBefore, before);
      // The kernel's count before and after the first resets that have to cut the set down.
      const checkKernel = before > CAP && kernelChecks < 5;
      if (checkKernel) expect(kernel(), `cycle ${cycle}: smaps before reset`).toBe(before);
      resetV8Memory(m.memory.buffer, m.image, settings, { pool: m.resets, slot: m.state, key: `cap:${mode}:${disable.join()}` });
      if (m.state.last?.overCap === true) overCapResets += 1;
      const after = residentPrivateBytes(m.memory.buffer);
      worstAfter = Math.max(worstAfter, after);
      expect(after, `cycle ${cycle}: ${after} private bytes after reset`).toBeLessThanOrEqual(CAP);
      if (checkKernel || cycle % 1000 === 999) {
        kernelChecks += checkKernel ? 1 : 0;
        expect(kernel(), `cycle ${cycle}: smaps after reset`).toBe(after);
      }
      if (cycle % 500 === 0) expect(m.firstMismatch()).toBe(-1);
    }
    // The tenants really did push the private set past the cap, so the cap
    // (not luck) is what held it down.
    expect(worstBefore).toBeGreaterThan(CAP);
    expect(overCapResets).toBeGreaterThan(0);
    // And the cap is used, not just undercut by discarding everything each time.
    expect(worstAfter).toBeGreaterThan(CAP / 2);
    expect(kernelChecks).toBe(5);
    expect(m.firstMismatch()).toBe(-1);
  });

  it('drops every private page on each trimEvery-th reset', () => {
    const m = new MappedMemory(patternBytes(300_000, 12), 16);
    const settings: ResetSettings = { mode, keepResidentBytes: 0, maxResidentBytes: 16 << 20, trimEvery: 7, disable };
    // Resets since the last one that dropped everything (a trim, or the
    // re-registration track-writes does after a new mapping).
    let since: number | null = null;
    let trims = 0;
    for (let cycle = 1; cycle <= 40; cycle++) {
      const bytes = m.bytes;
      for (let page = 0; page < 20; page++) bytes[page * 3 * PAGE + cycle] = cycle;
      resetV8Memory(m.memory.buffer, m.image, settings, { pool: m.resets, slot: m.state, key: `trim:${mode}:${disable.join()}` });
      const last = m.state.last;
      const after = residentPrivateBytes(m.memory.buffer);
      expect(rangeSmaps(addon().memoryAddress(m.memory.buffer), m.memory.buffer.byteLength).anonymous, `cycle ${cycle}: smaps`).toBe(after);
      if (last?.trimmed === true) {
        trims += 1;
        if (since !== null) expect(since, `cycle ${cycle}`).toBe(6);
      }
      if (last?.trimmed === true || last?.rearmed === true) {
        expect(after, `cycle ${cycle}`).toBe(0);
        since = 0;
      } else {
        expect(after, `cycle ${cycle}`).toBeGreaterThan(0);
        if (since !== null) since += 1;
        expect(since ?? 0, `cycle ${cycle}: no trim after 7 resets`).toBeLessThan(7);
      }
      expect(m.firstMismatch()).toBe(-1);
    }
    expect(trims).toBeGreaterThanOrEqual(5);
  });
});
