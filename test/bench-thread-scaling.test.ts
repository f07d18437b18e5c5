/**
 * The thread section. Workers run the compiled package, so what this file
 * checks depends on whether dist/ holds the worker: with it, every subject
 * gets a row per thread count and scaling is against its own one-thread
 * throughput; without it, the section is skipped with a note saying how to
 * build — never a failed run.
 */
import { describe, expect, it } from 'vitest';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { subjectSpecs } from '../src/bench/bench-subjects.js';
import { syntheticModule } from '../src/bench/synthetic-modules.js';
import { measureThreadScaling, threadWorkerPath } from '../src/bench/thread-scaling.js';

describe('bench thread scaling', () => {
  it('measures each subject at each count, or says the compiled worker is missing', async () => {
    const bytes = syntheticModule('data-1mib');
    const module = { name: 'data-1mib', bytes, layout: prepareLayout(bytes), callTarget: { name: 'noop', how: 'the exported no-op' } };
    const specs = subjectSpecs(['fresh', 'cow'], ['madvise']);
    const rounds: string[] = [];
    const section = await measureThreadScaling({
      module, scenario: 'call_empty_function', specs, counts: [1, 2], timeMs: 20, rounds: 2, onRound: (label) => rounds.push(label),
    });
    if (threadWorkerPath() === null) {
      expect(section).toEqual({ status: 'skipped', reason: expect.stringContaining('npm run build') });
      return;
    }
    expect(section.status).toBe('measured');
    if (section.status !== 'measured') return;
    expect(section.rounds).toBe(2);
    // Interleaved: every subject's round 1 before any round 2.
    expect(rounds).toEqual([
      'threads · fresh × 1 (round 1/2)', 'threads · fresh × 2 (round 1/2)', 'threads · cow:madvise × 1 (round 1/2)', 'threads · cow:madvise × 2 (round 1/2)',
      'threads · fresh × 1 (round 2/2)', 'threads · fresh × 2 (round 2/2)', 'threads · cow:madvise × 1 (round 2/2)', 'threads · cow:madvise × 2 (round 2/2)',
    ]);
    expect(section.rows.map((r) => `${r.subject}×${r.threads}`)).toEqual(['fresh×1', 'fresh×2', 'cow:madvise×1', 'cow:madvise×2']);
    for (const row of section.rows) {
      expect(row.status, row.reason).toBe('measured');
      expect(row.perThreadOpsPerSec).toHaveLength(row.threads);
      expect(row.opsPerSec).toBeCloseTo(row.perThreadOpsPerSec.reduce((a, b) => a + b, 0), 6);
      const single = section.rows.find((r) => r.subject === row.subject && r.threads === 1);
      expect(row.scaling).toBe(row.opsPerSec / (single?.opsPerSec ?? NaN));
    }
  });

  it('reports a subject whose operation does not apply as unavailable at every count', async () => {
    const bytes = syntheticModule('data-1mib');
    const module = { name: 'data-1mib', bytes, layout: prepareLayout(bytes), callTarget: null };
    const section = await measureThreadScaling({ module, scenario: 'call_empty_function', specs: subjectSpecs(['raw'], []), counts: [1, 2], timeMs: 20 });
    if (section.status === 'skipped') {
      expect(threadWorkerPath()).toBeNull();
      return;
    }
    expect(section.rows.map((r) => [r.threads, r.status, r.scaling])).toEqual([[1, 'unavailable', null], [2, 'unavailable', null]]);
    expect(section.rows[0]?.reason).toContain('memory only');
  });
});
