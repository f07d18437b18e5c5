/**
 * The bench's results as data (the `--json` output) and the pure arithmetic
 * over them: ratios against `fresh` from the same run, the winner of each
 * scenario, thread scaling. Nothing here measures; everything here is
 * deterministic, so it is property-tested.
 */
import type { GrowthSection } from './growth-section.js';
import type { WasiSection } from './wasi-section.js';
import type { ResetMode } from '../config/pool-config-schema.js';
import type { BenchConfig, BenchScenario, BenchStrategy } from './bench-config-schema.js';

/** Version of the JSON layout; bumped when a field changes meaning. */
export const BENCH_REPORT_FORMAT = 'cowpool-bench/1';

interface RowKey {
  module: string;
  scenario: BenchScenario;
  /** `fresh`, `copy`, `cow:<mode>`, `reuse`, `raw`. */
  subject: string;
  strategy: BenchStrategy;
  resetMode: ResetMode | null;
}

export interface MeasuredRow extends RowKey {
  status: 'measured';
  /** Operations timed (after warm-up). */
  samples: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  /** Operations per second over the timed phase: samples / total time. */
  opsPerSec: number;
  /** Minor page faults of the whole process during the timed phase, per operation. */
  minorFaultsPerOp: number;
  /** Resident set size of the process right after the task. */
  rssBytes: number;
  /** Bytes the pool's resets restored by copying, per operation (0 for strategies that copy nothing back). */
  bytesRestoredPerOp: number;
  /** Private bytes the pool's idle slots kept resident right after the task (stats().memory). */
  residentPrivateBytes: number;
  /** fresh.medianUs / medianUs for the same module and scenario in this run; > 1 means faster than fresh. Null without a fresh row. */
  ratioToFresh: number | null;
  /** Set when a pooled strategy served the module by plain V8 instantiation: the reason. */
  fallback: string | null;
  /** cow:auto: what its policy spent settling before the timed phases (not in the times above). */
  settle?: SettleSummary;
}

/** Operations run before a task's timed phases until its reset policy had settled, over every round. */
export interface SettleSummary {
  operations: number;
  /** Their total wall time. */
  ms: number;
  /** The mode the policy had settled on when the last timed phase began. */
  mode: string | null;
}

export interface UnmeasuredRow extends RowKey {
  /** `skipped`: the scenario does not apply; `unavailable`: the subject failed (reason says how). */
  status: 'skipped' | 'unavailable';
  reason: string;
}

export type BenchRow = MeasuredRow | UnmeasuredRow;

/** A measured row before its ratio is known. */
export type Measurement = Omit<MeasuredRow, 'ratioToFresh'>;

/** The q-quantile (0..1) of ascending `sorted`, interpolating linearly between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const low = sorted[below] as number;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  return low + (high - low) * (at - below);
}

export interface SampleStats {
  samples: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  opsPerSec: number;
}

/** Statistics of per-operation times in milliseconds (tinybench's unit), reported in microseconds. */
export function sampleStats(samplesMs: readonly number[]): SampleStats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: sorted.length,
    medianUs: quantile(sorted, 0.5) * 1000,
    p99Us: quantile(sorted, 0.99) * 1000,
    meanUs: sorted.length === 0 ? Number.NaN : (total / sorted.length) * 1000,
    opsPerSec: total > 0 ? (sorted.length * 1000) / total : 0,
  };
}

export function isMeasured(row: BenchRow): row is MeasuredRow {
  return row.status === 'measured';
}

/**
 * Fills `ratioToFresh` on every measured row: the median of `fresh` for the
 * same module and scenario divided by the row's median.
 */
export function withRatios(rows: readonly (Measurement | UnmeasuredRow)[]): BenchRow[] {
  const fresh = new Map<string, number>();
  for (const row of rows) {
    if (row.status === 'measured' && row.subject === 'fresh') fresh.set(`${row.module}\u0000${row.scenario}`, row.medianUs);
  }
  return rows.map((row): BenchRow => {
    if (row.status !== 'measured') return row;
    const base = fresh.get(`${row.module}\u0000${row.scenario}`);
    return { ...row, ratioToFresh: base === undefined || row.medianUs <= 0 ? null : base / row.medianUs };
  });
}

export interface Winner {
  module: string;
  scenario: BenchScenario;
  /** The subject with the lowest median. */
  subject: string;
  medianUs: number;
  ratioToFresh: number | null;
  /** The next-fastest subject and how many times slower it is than the winner; null when only one was measured. */
  runnerUp: { subject: string; ratio: number } | null;
}

/**
 * `raw` hands out memory without a V8 instance, so it is shown beside the
 * strategies but never ranked against them.
 */
function ranked(row: BenchRow): row is MeasuredRow {
  return isMeasured(row) && row.strategy !== 'raw';
}

/** The fastest ranked subject of every module × scenario with at least one measured row, in row order. */
export function winners(rows: readonly BenchRow[]): Winner[] {
  const groups = new Map<string, MeasuredRow[]>();
  for (const row of rows) {
    if (!ranked(row)) continue;
    const key = `${row.module}\u0000${row.scenario}`;
    const group = groups.get(key) ?? [];
    group.push(row);
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.medianUs - b.medianUs);
    const best = sorted[0] as MeasuredRow;
    const next = sorted[1];
    return {
      module: best.module,
      scenario: best.scenario,
      subject: best.subject,
      medianUs: best.medianUs,
      ratioToFresh: best.ratioToFresh,
      runnerUp: next === undefined ? null : { subject: next.subject, ratio: best.medianUs > 0 ? next.medianUs / best.medianUs : Infinity },
    };
  });
}

export interface ScenarioSummary {
  scenario: BenchScenario;
  /** Per subject: the geometric mean of ratioToFresh over the modules where both were measured. */
  subjects: { subject: string; geomeanRatioToFresh: number; modules: number }[];
  /** The ranked subject (not `raw`) with the highest geometric-mean ratio; null when no ratio exists. */
  best: string | null;
}

/** Across modules: how many times faster than fresh each subject is, per scenario (geometric mean). */
export function scenarioSummaries(rows: readonly BenchRow[], scenarios: readonly BenchScenario[]): ScenarioSummary[] {
  return scenarios.map((scenario) => {
    const logs = new Map<string, number[]>();
    const rankedSubjects = new Set(rows.filter(ranked).map((r) => r.subject));
    for (const row of rows) {
      if (!isMeasured(row) || row.scenario !== scenario || row.ratioToFresh === null || !(row.ratioToFresh > 0)) continue;
      const list = logs.get(row.subject) ?? [];
      list.push(Math.log(row.ratioToFresh));
      logs.set(row.subject, list);
    }
    const subjects = [...logs.entries()].map(([subject, list]) => ({
      subject,
      geomeanRatioToFresh: Math.exp(list.reduce((a, b) => a + b, 0) / list.length),
      modules: list.length,
    }));
    let best: string | null = null;
    let bestRatio = -Infinity;
    for (const s of subjects) {
      if (rankedSubjects.has(s.subject) && s.geomeanRatioToFresh > bestRatio) {
        best = s.subject;
        bestRatio = s.geomeanRatioToFresh;
      }
    }
    return { scenario, subjects, best };
  });
}

export interface ThreadRow {
  subject: string;
  threads: number;
  status: 'measured' | 'unavailable';
  /** Operations per second summed over all threads. */
  opsPerSec: number;
  perThreadOpsPerSec: number[];
  /** opsPerSec / opsPerSec with 1 thread for the same subject; null without a 1-thread row. */
  scaling: number | null;
  /** Why the row has no numbers (status unavailable). */
  reason?: string;
}

/** Fills `scaling` against each subject's 1-thread throughput. */
export function withScaling(rows: readonly Omit<ThreadRow, 'scaling'>[]): ThreadRow[] {
  const single = new Map<string, number>();
  for (const row of rows) if (row.status === 'measured' && row.threads === 1) single.set(row.subject, row.opsPerSec);
  return rows.map((row) => {
    const base = single.get(row.subject);
    return { ...row, scaling: row.status !== 'measured' || base === undefined || base <= 0 ? null : row.opsPerSec / base };
  });
}

/**
 * Thread counts to measure: the configured list with `cores` replaced by
 * the core count, repeats dropped, ascending.
 */
export function threadCounts(counts: readonly (number | 'cores')[], cores: number): number[] {
  return [...new Set(counts.map((c) => (c === 'cores' ? cores : c)))].sort((a, b) => a - b);
}

export type ThreadSection =
  | { status: 'measured'; module: string; scenario: BenchScenario; timeMs: number; rounds: number; counts: number[]; rows: ThreadRow[] }
  | { status: 'skipped'; reason: string };

export interface LazyTableTimes {
  eagerMedianUs: number;
  lazyMedianUs: number;
  /** eagerMedianUs / lazyMedianUs: how many times faster lazy is. */
  ratio: number;
}

export type LazyTableSection =
  | { status: 'measured'; entries: number; rounds: number; construct: LazyTableTimes; reset: LazyTableTimes }
  | { status: 'skipped'; reason: string };

export interface ModuleSummary {
  name: string;
  source: 'synthetic' | 'dependency' | 'path';
  origin: string;
  description: string;
  bytes: number;
  memoryBytes: number | null;
  imageBytes: number;
  cow: boolean;
  fallbackReason: string | null;
  /** The export call_empty_function calls, and why that one; null when none is safe. */
  callTarget: { name: string; how: string } | null;
  imports: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  platform: string;
  kernel: string;
  arch: string;
  node: string;
  v8: string;
  totalMemoryBytes: number;
}

export interface BenchReport {
  format: typeof BENCH_REPORT_FORMAT;
  machine: MachineInfo;
  startedAt: string;
  durationMs: number;
  config: BenchConfig;
  modules: ModuleSummary[];
  skippedModules: { name: string; reason: string }[];
  rows: BenchRow[];
  winners: Winner[];
  scenarios: ScenarioSummary[];
  threads: ThreadSection;
  lazyTable: LazyTableSection;
  /** Absent in reports from before the section existed. */
  wasi?: WasiSection;
  /** Absent in reports from before the section existed. */
  growth?: GrowthSection;
  notes: string[];
}
