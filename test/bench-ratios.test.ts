/**
 * The bench's arithmetic over results, by property: ratios are fresh's
 * median over the row's from the same module and scenario, the winner is
 * the fastest instance strategy, scaling is against one thread, and the
 * sample statistics stay inside the samples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BENCH_SCENARIOS, type BenchStrategy } from '../src/bench/bench-config-schema.js';
import {
  quantile,
  sampleStats,
  threadCounts,
  winners,
  withRatios,
  withScaling,
  type Measurement,
  type MeasuredRow,
} from '../src/bench/bench-results.js';

const SUBJECTS: { subject: string; strategy: BenchStrategy }[] = [
  { subject: 'fresh', strategy: 'fresh' },
  { subject: 'copy', strategy: 'copy' },
  { subject: 'cow:madvise', strategy: 'cow' },
  { subject: 'reuse', strategy: 'reuse' },
  { subject: 'raw', strategy: 'raw' },
];

const measurement = fc
  .record({
    module: fc.constantFrom('a', 'b'),
    scenario: fc.constantFrom(...BENCH_SCENARIOS),
    which: fc.integer({ min: 0, max: SUBJECTS.length - 1 }),
    medianUs: fc.double({ min: 0.01, max: 1e6, noNaN: true }),
  })
  .map(({ module, scenario, which, medianUs }): Measurement => {
    const s = SUBJECTS[which] as (typeof SUBJECTS)[number];
    return {
      module, scenario, subject: s.subject, strategy: s.strategy, resetMode: null, status: 'measured',
      samples: 10, medianUs, p99Us: medianUs * 2, meanUs: medianUs, opsPerSec: 1e6 / medianUs,
      minorFaultsPerOp: 0, rssBytes: 1, bytesRestoredPerOp: 0, residentPrivateBytes: 0, fallback: null,
    };
  });

/** At most one row per module × scenario × subject, as a run produces. */
const runRows = fc.uniqueArray(measurement, { selector: (m) => `${m.module}/${m.scenario}/${m.subject}`, maxLength: 30 });

describe('bench result arithmetic', () => {
  it('computes every ratio as fresh.medianUs / row.medianUs of the same module and scenario, null without fresh', () => {
    fc.assert(
      fc.property(runRows, (rows) => {
        const out = withRatios(rows);
        expect(out).toHaveLength(rows.length);
        for (const row of out as MeasuredRow[]) {
          const fresh = rows.find((r) => r.module === row.module && r.scenario === row.scenario && r.subject === 'fresh');
          expect(row.ratioToFresh).toBe(fresh === undefined ? null : fresh.medianUs / row.medianUs);
        }
      }),
    );
  });

  it('names the lowest median among instance strategies as the winner; raw is never ranked', () => {
    fc.assert(
      fc.property(runRows, (rows) => {
        const ranked = withRatios(rows);
        const result = winners(ranked);
        const groups = new Set(rows.filter((r) => r.strategy !== 'raw').map((r) => `${r.module}/${r.scenario}`));
        expect(result).toHaveLength(groups.size);
        for (const w of result) {
          const group = rows.filter((r) => r.module === w.module && r.scenario === w.scenario && r.strategy !== 'raw');
          const sorted = [...group].sort((a, b) => a.medianUs - b.medianUs);
          expect(w.medianUs).toBe(sorted[0]?.medianUs);
          expect(w.subject).not.toBe('raw');
          if (sorted.length > 1) expect(w.runnerUp?.ratio).toBeGreaterThanOrEqual(1);
          else expect(w.runnerUp).toBeNull();
        }
      }),
    );
  });

  it('scales every subject against its own one-thread throughput', () => {
    const row = fc.record({
      subject: fc.constantFrom('fresh', 'cow:madvise'),
      threads: fc.integer({ min: 1, max: 4 }),
      opsPerSec: fc.double({ min: 1, max: 1e6, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => `${r.subject}/${r.threads}` }), (rows) => {
        const out = withScaling(rows.map((r) => ({ ...r, status: 'measured' as const, perThreadOpsPerSec: [] })));
        for (const r of out) {
          const single = rows.find((x) => x.subject === r.subject && x.threads === 1);
          expect(r.scaling).toBe(single === undefined ? null : r.opsPerSec / single.opsPerSec);
        }
      }),
    );
  });

  it('turns the thread list into distinct ascending counts with "cores" replaced', () => {
    const entry = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant('cores' as const));
    fc.assert(
      fc.property(fc.array(entry), fc.integer({ min: 1, max: 64 }), (counts, cores) => {
        const out = threadCounts(counts, cores);
        expect(out).toEqual([...new Set(out)].sort((a, b) => a - b));
        expect(new Set(out)).toEqual(new Set(counts.map((c) => (c === 'cores' ? cores : c))));
      }),
    );
  });

  it('keeps quantiles, median and p99 inside the samples and ordered', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.0001, max: 1000, noNaN: true }), { minLength: 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (samples, q) => {
        const sorted = [...samples].sort((a, b) => a - b);
        const value = quantile(sorted, q);
        expect(value).toBeGreaterThanOrEqual(sorted[0] as number);
        expect(value).toBeLessThanOrEqual(sorted[sorted.length - 1] as number);
        const stats = sampleStats(samples);
        expect(stats.samples).toBe(samples.length);
        expect(stats.p99Us).toBeGreaterThanOrEqual(stats.medianUs);
        expect(stats.opsPerSec).toBeCloseTo((samples.length * 1000) / samples.reduce((a, b) => a + b, 0), 6);
      }),
    );
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(sampleStats([0.001, 0.003, 0.002]).medianUs).toBe(2);
  });
});
