/**
 * The bench times cow:auto only after its policy settled on the task's
 * workload: every round runs the task until the policy is settled, outside
 * the timed phase, and the row reports what that took. Other modes have
 * nothing to settle. Structure only, no times asserted.
 */
import { describe, expect, it } from 'vitest';
import { isMeasured } from '../src/bench/bench-results.js';
import { runBench } from '../src/bench/run-bench.js';

describe('bench: cow:auto settles before it is timed', () => {
  it('reports the settling per row, apart from the timed samples', async () => {
    const rounds = 2;
    const report = await runBench({
      modules: ['data-1mib'],
      strategies: ['cow'],
      resetModes: ['madvise', 'auto'],
      scenarios: ['dirty_1mb_of_memory', 'call_empty_function'],
      timeMs: 4,
      warmupMs: 0,
      minIterations: 3,
      rounds,
      threads: { counts: [] },
      lazyTable: { enabled: false },
      growth: { enabled: false },
    });
    const rows = report.rows.filter(isMeasured);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      if (row.resetMode !== 'auto') {
        expect(row.settle, row.subject).toBeUndefined();
        continue;
      }
      // Each round re-measures and runs at least the guard's worth of operations before timing.
      expect(row.settle?.operations, row.scenario).toBeGreaterThanOrEqual(rounds * 80);
      expect(row.settle?.ms).toBeGreaterThan(0);
      expect(['madvise', 'keep-resident', 'restore-dirty', 'track-writes']).toContain(row.settle?.mode);
    }
    expect(report.notes.some((n) => n.includes('data-1mib · dirty_1mb_of_memory · cow:auto'))).toBe(true);
  });
});
