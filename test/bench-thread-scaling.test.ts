/**
 * The thread section. Workers run the compiled package, so what this file
 * checks depends on whether dist/ holds the worker: with it, every subject
 * gets a row per thread count and scaling is against its own one-thread
 * throughput; without it, the section is skipped with a note saying how to
 * build — never a failed run.
 */
import { describe, expect, it } from 'vitest';
import type { measureThreadScaling } from '../src/bench/thread-scaling.js';
import { lastJsonLine, runTsChild, srcUrl } from './helpers/reliability-child.js';

type Section = Awaited<ReturnType<typeof measureThreadScaling>>;

/**
 * Runs measureThreadScaling in a child process: its worker threads load the
 * addon and reset memories next to the test's own thread, and a native fault
 * in any thread takes the whole process down. In a child, that fails this
 * test instead of the test runner's worker.
 */
async function measureInChild(
  moduleName: string,
  callTarget: boolean,
  strategies: string[],
  modes: string[],
  rounds?: number,
): Promise<{ section: Section; rounds: string[]; workerPath: string | null }> {
  const child = await runTsChild(`
    const { prepareLayout } = await import(${JSON.stringify(srcUrl('wasm/prepare-layout.ts'))});
    const { subjectSpecs } = await import(${JSON.stringify(srcUrl('bench/bench-subjects.ts'))});
    const { syntheticModule } = await import(${JSON.stringify(srcUrl('bench/synthetic-modules.ts'))});
    const { measureThreadScaling, threadWorkerPath } = await import(${JSON.stringify(srcUrl('bench/thread-scaling.ts'))});
    const bytes = syntheticModule(${JSON.stringify(moduleName)});
    const module = {
      name: ${JSON.stringify(moduleName)}, bytes, layout: prepareLayout(bytes),
      callTarget: ${callTarget ? "{ name: 'noop', how: 'the exported no-op' }" : 'null'},
    };
    const rounds = [];
    const section = await measureThreadScaling({
      module, scenario: 'call_empty_function', specs: subjectSpecs(${JSON.stringify(strategies)}, ${JSON.stringify(modes)}),
      counts: [1, 2], timeMs: 20, ${rounds === undefined ? '' : `rounds: ${rounds},`} onRound: (label) => rounds.push(label),
    });
    console.log(JSON.stringify({ section, rounds, workerPath: threadWorkerPath() }));
  `, { asFile: true });
  expect({ status: child.status, signal: child.signal }, child.stderr).toEqual({ status: 0, signal: null });
  return lastJsonLine(child.stdout);
}

describe('bench thread scaling', () => {
  it('measures each subject at each count, or says the compiled worker is missing', async () => {
    const { section, rounds, workerPath } = await measureInChild('data-1mib', true, ['fresh', 'cow'], ['madvise'], 2);
    if (workerPath === null) {
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
    const { section, workerPath } = await measureInChild('data-1mib', false, ['raw'], []);
    if (section.status === 'skipped') {
      expect(workerPath).toBeNull();
      return;
    }
    expect(section.rows.map((r) => [r.threads, r.status, r.scaling])).toEqual([[1, 'unavailable', null], [2, 'unavailable', null]]);
    expect(section.rows[0]?.reason).toContain('memory only');
  });
});
