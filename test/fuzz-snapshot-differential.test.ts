/**
 * The snapshot fuzzer: every generated module validates (whatever the seed),
 * and a short campaign on every target finds no tenant that differs from a
 * plain instance after start and the same initializer. Long runs:
 * `npm run fuzz:snapshot -- --seconds N`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng } from '../src/fuzz/prng.js';
import { emitSnapshotCase, generateSnapshotCase } from '../src/fuzz/snapshot-case.js';
import { runSnapshotCampaign } from '../src/fuzz/snapshot-cli.js';

describe('snapshot fuzzer', () => {
  it('generates valid modules for any seed', () => {
    fc.assert(
      fc.property(fc.nat(0xffff_ffff), (seed) => {
        const bytes = emitSnapshotCase(generateSnapshotCase(seed, new Prng(seed)));
        expect(WebAssembly.validate(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a short campaign: no snapshot tenant differs from the reference', async () => {
    const summary = await runSnapshotCampaign({ seed: 20_251_130, cases: 40 });
    expect(summary.failureList).toEqual([]);
    // Most cases initialize; the campaign exercised tenants, not only traps.
    expect(summary.cases - summary.trappingCases).toBeGreaterThan(20);
    expect(summary.tenants).toBeGreaterThan(400);
  });
});
