/**
 * Times a list of synchronous operations with tinybench, in `rounds` passes
 * over the whole list: each task gets timeMs / rounds per pass and its
 * samples from every pass are pooled. A machine whose speed drifts during
 * the run (other work, thermal limits) then slows every strategy alike
 * instead of whichever happened to run during the slow minute, and the
 * ratios stay honest. Each pass also starts at a different task (the list
 * is rotated), so no strategy always runs first, next to whatever the
 * process did just before.
 *
 * Around each timed phase it reads the process's minor page faults and RSS.
 */
import { Bench } from 'tinybench';
import { sampleStats, type Measurement, type SettleSummary, type UnmeasuredRow } from './bench-results.js';
import { collectGarbage } from './collect-garbage.js';
import type { ProgressSink } from './progress-reporter.js';
import { formatTime } from './report-format.js';
import type { MemoryCounters } from '../pool/memory-counters.js';

export interface TimedTask {
  row: Pick<Measurement, 'module' | 'scenario' | 'subject' | 'strategy' | 'resetMode' | 'fallback'>;
  run: () => void;
  /** The subject pool's memory counters, read around the timed phase. */
  memory?: () => MemoryCounters;
  /** Run before each timed phase (not timed): lets the subject's reset policy settle on this task's workload. */
  settle?: () => SettleSummary;
}

export interface TimingOptions {
  timeMs: number;
  warmupMs: number;
  minIterations: number;
  rounds: number;
}

/** What one task gathered over all rounds. */
interface Tally {
  samples: number[];
  faults: number;
  rss: number;
  error: string | null;
  /** Fault counter at the start of the current timed phase. */
  faultsAtStart: number;
  /** Bytes restored during timed phases, and the counter at the start of the current one. */
  restored: number;
  restoredAtStart: number;
  /** Private bytes idle slots kept resident after the last timed phase. */
  residentPrivate: number;
  /** What settling cost before the timed phases, summed over rounds (null: the task does not settle). */
  settle: SettleSummary | null;
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

export function labelOf(row: Pick<TimedTask['row'], 'module' | 'scenario' | 'subject'>): string {
  return `${row.module} · ${row.scenario} · ${row.subject}`;
}

/**
 * One Measurement (or an unavailable row, for a task that threw) per task,
 * in order. Progress gets one step per task per round.
 */
export function timeTasks(tasks: readonly TimedTask[], options: TimingOptions, progress: ProgressSink): (Measurement | UnmeasuredRow)[] {
  const tallies: Tally[] = tasks.map(() => ({ samples: [], faults: 0, rss: 0, error: null, faultsAtStart: 0, restored: 0, restoredAtStart: 0, residentPrivate: 0, settle: null }));
  const rounds = Math.max(1, options.rounds);
  for (let round = 0; round < rounds; round++) {
    const warm = round === 0 && options.warmupMs > 0;
    const bench = new Bench({
      // Before each task: collect what earlier tasks dropped, outside any timing.
      setup: (_task, mode) => {
        if (mode === 'warmup' || !warm) collectGarbage();
      },
      time: options.timeMs / rounds,
      warmup: warm,
      warmupTime: options.warmupMs,
      warmupIterations: Math.min(options.minIterations, 8),
      iterations: Math.max(1, Math.ceil(options.minIterations / rounds)),
      retainSamples: true,
    });
    const indexOf = new Map<string, number>();
    const shift = Math.floor((round * tasks.length) / rounds);
    const order = tasks.map((_, k) => (k + shift) % tasks.length);
    for (const i of order) {
      const task = tasks[i] as TimedTask;
      const tally = tallies[i] as Tally;
      if (tally.error !== null) continue;
      // Names must be unique; the index keeps them so even for repeated module names.
      const name = `${i}\u0000${labelOf(task.row)}`;
      indexOf.set(name, i);
      bench.add(name, task.run, {
        beforeAll(mode) {
          if (mode !== 'run') return;
          if (task.settle !== undefined) {
            const s = task.settle();
            tally.settle = { operations: (tally.settle?.operations ?? 0) + s.operations, ms: (tally.settle?.ms ?? 0) + s.ms, mode: s.mode };
          }
          tally.faultsAtStart = process.resourceUsage().minorPageFault;
          tally.restoredAtStart = task.memory?.().bytesRestored ?? 0;
        },
        afterAll(mode) {
          if (mode !== 'run') return;
          tally.faults += process.resourceUsage().minorPageFault - tally.faultsAtStart;
          tally.rss = process.memoryUsage.rss();
          const memory = task.memory?.();
          tally.restored += (memory?.bytesRestored ?? 0) - tally.restoredAtStart;
          tally.residentPrivate = memory?.residentPrivateBytes ?? 0;
        },
      });
    }
    bench.addEventListener('cycle', (event) => {
      const task = event.task;
      const i = indexOf.get(task.name) as number;
      const tally = tallies[i] as Tally;
      const result = task.result;
      if (result.state === 'completed' || result.state === 'aborted-with-statistics') {
        tally.samples.push(...(result.latency.samples ?? []));
      } else if (result.state === 'errored') {
        tally.error = describeError(result.error);
      } else {
        tally.error = `the task ended ${result.state}`;
      }
      const summary = tally.error !== null
        ? `failed: ${tally.error}`
        : `median ${formatTime(sampleStats(tally.samples).medianUs)}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ''}`;
      progress.task(labelOf((tasks[i] as TimedTask).row), summary);
    });
    bench.runSync();
  }
  return tasks.map((task, i) => {
    const tally = tallies[i] as Tally;
    if (tally.error !== null || tally.samples.length === 0) {
      return { ...task.row, status: 'unavailable', reason: tally.error ?? 'no samples were recorded' } satisfies UnmeasuredRow;
    }
    const stats = sampleStats(tally.samples);
    return {
      ...task.row,
      status: 'measured',
      ...stats,
      minorFaultsPerOp: tally.faults / stats.samples,
      rssBytes: tally.rss,
      bytesRestoredPerOp: tally.restored / stats.samples,
      residentPrivateBytes: tally.residentPrivate,
      ...(tally.settle === null ? {} : { settle: tally.settle }),
    } satisfies Measurement;
  });
}
