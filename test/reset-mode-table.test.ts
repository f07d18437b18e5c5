/**
 * The reset mode table: the native ids match what the addon runs, and every
 * fallback ends at a mode whose facilities are there (property over every
 * combination of kernel facilities).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import {
  ACTIVE_RESET_MODES,
  activeModeFor,
  autoCandidatesFor,
  RESET_MODE_TABLE,
  type ActiveResetMode,
  type ResetCapabilities,
} from '../src/slots/reset-mode-table.js';

const caps = fc
  .record({ trackWrites: fc.boolean(), pagemapScan: fc.boolean(), pagemapRead: fc.boolean() })
  // The addon never reports write tracking without PAGEMAP_SCAN (resetCapabilities).
  .map((c): ResetCapabilities => ({ ...c, trackWrites: c.trackWrites && c.pagemapScan, reasons: {} }));

function available(mode: ActiveResetMode, c: ResetCapabilities): boolean {
  return RESET_MODE_TABLE[mode].needs.every((f) => (f === 'uffd' ? c.trackWrites : f === 'pagemap_scan' ? c.pagemapScan : c.pagemapRead));
}

describe('reset mode table', () => {
  it('gives each active mode the native id the addon runs it by', () => {
    const ids = Object.fromEntries(ACTIVE_RESET_MODES.map((m) => [m, RESET_MODE_TABLE[m].native]));
    expect(addon().resetModeIds).toEqual(ids);
  });

  it('falls back along the table to a mode whose facilities are all there', () => {
    fc.assert(
      fc.property(caps, fc.constantFrom(...ACTIVE_RESET_MODES), (c, requested) => {
        const active = activeModeFor(requested, c);
        expect(available(active, c)).toBe(true);
        // Reached by following fallbacks from the request, stopping at the first available one.
        let m: ActiveResetMode = requested;
        while (!available(m, c)) m = RESET_MODE_TABLE[m].fallback ?? m;
        expect(active).toBe(m);
      }),
    );
  });

  it("offers auto madvise first and only modes that run as themselves, without duplicates", () => {
    fc.assert(
      fc.property(caps, fc.boolean(), (c, threadFaults) => {
        const candidates = autoCandidatesFor(c, threadFaults);
        expect(candidates[0]).toBe('madvise');
        expect(new Set(candidates).size).toBe(candidates.length);
        for (const m of candidates) expect(available(m, c)).toBe(true);
        expect(candidates.includes('keep-resident')).toBe(threadFaults);
        expect(candidates.includes('track-writes')).toBe(c.trackWrites);
      }),
    );
  });
});
