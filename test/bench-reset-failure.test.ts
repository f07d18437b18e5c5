/**
 * A reset mode whose resets fail is reported as unavailable, not timed: the
 * pool swallows a failed reset (the slot goes `unknown` and is fully reset
 * on next use), so without this check the bench would print the recovery
 * path's time under the mode's name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { runBench } from '../src/bench/run-bench.js';

afterEach(() => addon().injectFault(null));

describe('bench with a failing reset mode', () => {
  it('marks the mode unavailable and still measures the others', async () => {
    // Every madvise fails: the madvise reset cannot complete, the other strategies do not use it.
    addon().injectFault('madvise', 0, 1_000_000);
    const report = await runBench({
      modules: ['data-1mib'],
      strategies: ['fresh', 'copy', 'cow'],
      resetModes: ['madvise'],
      scenarios: ['instantiate_only'],
      timeMs: 3,
      warmupMs: 0,
      minIterations: 2,
      rounds: 1,
      threads: { counts: [] },
      lazyTable: { enabled: false },
      growth: { enabled: false },
    });
    const bySubject = new Map(report.rows.map((r) => [r.subject, r]));
    expect(bySubject.get('fresh')?.status).toBe('measured');
    expect(bySubject.get('copy')?.status).toBe('measured');
    const cow = bySubject.get('cow:madvise');
    expect(cow?.status).toBe('unavailable');
    expect(cow !== undefined && 'reason' in cow ? cow.reason : '').toContain('resets failed in mode madvise');
    expect(report.winners.map((w) => w.subject)).not.toContain('cow:madvise');
  });
});
