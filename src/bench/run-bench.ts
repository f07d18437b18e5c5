/**
 * `runBench(config)`: measures every module × scenario × subject with
 * tinybench, then the thread section and the lazy-table section, and
 * returns one report whose ratios all come from this run.
 *
 *   load modules (fail fast) ─► per module: open subjects ─► probe each op once
 *     ─► tinybench (sequential, one task per op) ─► rows ─► ratios vs fresh
 *   ─► threads (workers) ─► lazy table ─► BenchReport
 */
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import type { BenchConfig, BenchConfigInput, BenchScenario } from './bench-config-schema.js';
import { isSkipped, loadBenchModule, loadBenchModules, type BenchModule } from './bench-modules.js';
import {
  BENCH_REPORT_FORMAT,
  isMeasured,
  scenarioSummaries,
  threadCounts,
  winners,
  withRatios,
  type BenchReport,
  type LazyTableSection,
  type MachineInfo,
  type MeasuredRow,
  type Measurement,
  type ModuleSummary,
  type ThreadSection,
  type UnmeasuredRow,
} from './bench-results.js';
import { openSubject, subjectSpecs, type OpenSubject, type SubjectModule, type SubjectSpec } from './bench-subjects.js';
import { findCallTarget } from './call-target.js';
import { collectGarbage } from './collect-garbage.js';
import { measureLazyTableSection } from './lazy-table-section.js';
import { parseBenchConfig } from './load-bench-config.js';
import { SILENT_PROGRESS, type ProgressSink } from './progress-reporter.js';
import { stubImports } from './stub-imports.js';
import { labelOf, timeTasks, type TimedTask } from './task-timer.js';
import { formatTime } from './report-format.js';
import { measureThreadScaling } from './thread-scaling.js';
import { measureGrowthSection, type GrowthSection } from './growth-section.js';
import { measureWasiSection, type WasiSection } from './wasi-section.js';

export interface RunBenchOptions {
  progress?: ProgressSink;
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: availableParallelism(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    platform: process.platform,
    kernel: release(),
    arch: process.arch,
    node: process.version,
    v8: process.versions.v8,
    totalMemoryBytes: totalmem(),
  };
}

/**
 * What a subject needs about `module`, with the export call_empty_function
 * calls (found on one plain instance made with stub imports).
 * @throws when the module cannot be instantiated with stubs (the caller reports it).
 */
function subjectModule(module: BenchModule): SubjectModule {
  const compiled = new WebAssembly.Module(module.bytes);
  const stubs = stubImports(module.layout, module.name, false);
  const instance = new WebAssembly.Instance(compiled, stubs.next().imports);
  return { name: module.name, bytes: module.bytes, layout: module.layout, callTarget: findCallTarget(module.bytes, module.layout, instance) };
}

function moduleSummary(module: BenchModule, target: SubjectModule | null): ModuleSummary {
  const layout = module.layout;
  let imports: string;
  try {
    imports = stubImports(layout, module.name, false).summary;
  } catch (e) {
    imports = describeError(e);
  }
  return {
    name: module.name,
    source: module.source,
    origin: module.origin,
    description: module.description,
    bytes: module.bytes.length,
    memoryBytes: layout.memory === null ? null : layout.memory.initialPages * 65536,
    imageBytes: layout.image.length,
    cow: layout.cow,
    fallbackReason: layout.fallbackReason === null ? null : `${layout.fallbackReason}: ${layout.fallbackDetail ?? ''}`,
    callTarget: target?.callTarget ?? null,
    imports,
  };
}

/** Rows for one module: open subjects, probe each operation once, then time what works. */
async function measureModule(
  config: BenchConfig,
  module: BenchModule,
  target: SubjectModule | { error: string },
  specs: readonly SubjectSpec[],
  progress: ProgressSink,
): Promise<(Measurement | UnmeasuredRow)[]> {
  const key = (scenario: BenchScenario, spec: SubjectSpec) =>
    ({ module: module.name, scenario, subject: spec.name, strategy: spec.strategy, resetMode: spec.resetMode });
  const rows: (Measurement | UnmeasuredRow | TimedTask)[] = [];
  const opened: OpenSubject[] = [];
  const failed = new Map<string, string>();
  if ('error' in target) {
    for (const spec of specs) failed.set(spec.name, target.error);
  } else {
    for (const spec of specs) {
      try {
        opened.push(await openSubject(spec, target));
      } catch (e) {
        failed.set(spec.name, describeError(e));
      }
    }
  }
  try {
    for (const scenario of config.scenarios) {
      for (const spec of specs) {
        const reason = failed.get(spec.name);
        if (reason !== undefined) {
          rows.push({ ...key(scenario, spec), status: 'unavailable', reason });
          continue;
        }
        const subject = opened.find((s) => s.spec.name === spec.name) as OpenSubject;
        const operation = subject.operation(scenario);
        if ('skip' in operation) {
          rows.push({ ...key(scenario, spec), status: 'skipped', reason: operation.skip });
          continue;
        }
        const failuresBefore = subject.resetFailures();
        try {
          // One untimed run: a mode the kernel lacks or a module that traps is reported, not timed.
          operation.run();
        } catch (e) {
          rows.push({ ...key(scenario, spec), status: 'unavailable', reason: describeError(e) });
          continue;
        }
        if (subject.resetFailures() > failuresBefore) {
          rows.push({ ...key(scenario, spec), status: 'unavailable', reason: resetFailedReason(spec) });
          continue;
        }
        rows.push({
          row: { ...key(scenario, spec), fallback: subject.fallback },
          run: operation.run,
          memory: () => subject.memory(),
          ...(operation.settle === undefined ? {} : { settle: operation.settle }),
        });
      }
    }
    for (const row of rows) {
      // A row that is not timed takes the progress steps its rounds would have.
      if ('reason' in row) progress.task(labelOf(row), `${row.status}: ${row.reason}`, config.rounds);
    }
    const pending = rows.filter((r): r is TimedTask => 'run' in r);
    const failuresBefore = new Map(opened.map((s) => [s.spec.name, s.resetFailures()]));
    const timed = timeTasks(pending, config, progress);
    // A subject whose resets started failing while timed measured the recovery path, not its mode.
    const failing = new Set(opened.filter((s) => s.resetFailures() > (failuresBefore.get(s.spec.name) ?? 0)).map((s) => s.spec.name));
    let next = 0;
    return rows.map((r): Measurement | UnmeasuredRow => {
      if (!('run' in r)) return r;
      const row = timed[next++] as Measurement | UnmeasuredRow;
      if (row.status !== 'measured' || !failing.has(row.subject)) return row;
      const spec = specs.find((s) => s.name === row.subject) as SubjectSpec;
      return { ...key(row.scenario, spec), status: 'unavailable', reason: resetFailedReason(spec) };
    });
  } finally {
    for (const subject of opened) subject.close();
  }
}

/** A loaded module and what subjects need of it (or why it cannot be instantiated). */
interface LoadedModule {
  module: BenchModule;
  target: SubjectModule | { error: string };
}

async function threadSection(config: BenchConfig, loaded: readonly LoadedModule[], progress: ProgressSink, counts: number[]): Promise<ThreadSection> {
  const threads = config.threads;
  if (counts.length === 0) return { status: 'skipped', reason: 'threads.counts is empty' };
  // The thread module is named as configured: a bundled name, or a path (the module's origin).
  let entry = loaded.find((e) => e.module.source === 'path' ? e.module.origin === threads.module : e.module.name === threads.module);
  if (entry === undefined) {
    const module = loadBenchModule(threads.module);
    if (isSkipped(module)) return { status: 'skipped', reason: `${module.name}: ${module.reason}` };
    entry = { module, target: targetFor(module) };
  }
  const target = entry.target;
  if ('error' in target) return { status: 'skipped', reason: `${entry.module.name}: ${target.error}` };
  const specs = subjectSpecs(threads.strategies, [threads.resetMode]);
  return measureThreadScaling({
    module: target,
    scenario: threads.scenario,
    specs,
    counts,
    timeMs: threads.timeMs,
    rounds: threads.rounds,
    onRound: (label, result) => progress.task(label, result),
  });
}

function resetFailedReason(spec: SubjectSpec): string {
  return `resets failed in mode ${spec.resetMode ?? 'none'} (counted in the pool's stats().resetFailures; the pool recovers by a full reset, which is not what this row would measure)`;
}

function targetFor(module: BenchModule): SubjectModule | { error: string } {
  try {
    return subjectModule(module);
  } catch (e) {
    return { error: `cannot be instantiated with stub imports (${describeError(e)})` };
  }
}

/**
 * Runs the bench described by `input` (validated; INVALID_CONFIG names every
 * bad field). Modules are loaded before anything is measured: an unreadable
 * path fails with BENCH_INPUT, a malformed module with INVALID_WASM.
 */
export async function runBench(input: BenchConfigInput | BenchConfig = {}, options: RunBenchOptions = {}): Promise<BenchReport> {
  const config = parseBenchConfig(input);
  const progress = options.progress ?? SILENT_PROGRESS;
  const startedAt = new Date();
  const started = performance.now();
  const { modules, skipped } = loadBenchModules(config.modules);
  const specs = subjectSpecs(config.strategies, config.resetModes);
  const counts = threadCounts(config.threads.counts, availableParallelism());
  const threadSpecs = subjectSpecs(config.threads.strategies, [config.threads.resetMode]);
  const total = modules.length * config.scenarios.length * specs.length * config.rounds
    + counts.length * threadSpecs.length * config.threads.rounds
    + (config.lazyTable.enabled ? 1 : 0)
    + (config.wasi.enabled ? 1 : 0)
    + (config.growth.enabled ? 1 : 0);

  const loaded: LoadedModule[] = modules.map((module) => ({ module, target: targetFor(module) }));

  const notes: string[] = [];
  if (!collectGarbage()) notes.push('no garbage collector function was available, so tasks may pay for collecting what earlier tasks dropped');
  progress.start(total);
  const measured: (Measurement | UnmeasuredRow)[] = [];
  try {
    for (const { module, target } of loaded) measured.push(...(await measureModule(config, module, target, specs, progress)));
    const threads = await threadSection(config, loaded, progress, counts);
    let lazyTable: LazyTableSection = { status: 'skipped', reason: 'lazyTable.enabled is false' };
    if (config.lazyTable.enabled) {
      const section = measureLazyTableSection(config.lazyTable.entries, config.lazyTable.rounds);
      progress.task('lazy table · eager vs lazy', `reset ratio ${section.reset.ratio.toFixed(1)}×`);
      lazyTable = section;
    }
    let wasi: WasiSection = { status: 'skipped', reason: 'wasi.enabled is false' };
    if (config.wasi.enabled) {
      wasi = await measureWasiSection(config.wasi.rounds);
      const first = wasi.status === 'measured' ? wasi.rows[0] : undefined;
      progress.task('wasi · plain vs pooled vs node:wasi', first === undefined ? 'skipped' : `${first.module} pooled ${first.pooledVsPlain.toFixed(1)}× plain`);
    }
    let growth: GrowthSection = { status: 'skipped', reason: 'growth.enabled is false' };
    if (config.growth.enabled) {
      growth = await measureGrowthSection(config.growth.rounds);
      const summary = growth.status === 'measured'
        ? growth.rows.map((r) => `${r.case} virtual ${r.virtualVsPlain.toFixed(1)}× plain`).join(', ')
        : `skipped: ${growth.reason}`;
      progress.task('growth · plain vs retire vs virtual', summary);
    }
    const rows = withRatios(measured);
    if (!config.strategies.includes('fresh')) notes.push('fresh was not measured, so no ratios were computed.');
    const fixedMode = config.strategies.filter((s) => s === 'reuse' || s === 'raw');
    if (fixedMode.length > 0) {
      const mode = subjectSpecs(fixedMode, []).map((s) => s.resetMode)[0] ?? 'madvise';
      notes.push(`${fixedMode.join(' and ')} reset memory in the pool's default mode (${mode}); after dirtying memory they cost what cow:${mode} costs, and another mode would change that as it changes cow's rows.`);
    }
    for (const s of skipped) notes.push(`${s.name} skipped: ${s.reason}.`);
    const settled = rows.filter((r): r is MeasuredRow => isMeasured(r) && r.settle !== undefined);
    if (settled.length > 0) {
      notes.push(
        'Subjects resetting in mode auto are timed after its policy settled on each task\'s workload; settling, not timed, took '
          + settled.map((r) => `${r.module} · ${r.scenario} · ${r.subject}: ${r.settle?.operations} ops, ${formatTime((r.settle?.ms ?? 0) * 1000)} → ${r.settle?.mode ?? 'not settled'}`).join('; ')
          + '.',
      );
    }
    return {
      format: BENCH_REPORT_FORMAT,
      machine: machineInfo(),
      startedAt: startedAt.toISOString(),
      durationMs: performance.now() - started,
      config,
      modules: loaded.map(({ module, target }) => moduleSummary(module, 'error' in target ? null : target)),
      skippedModules: skipped,
      rows,
      winners: winners(rows),
      scenarios: scenarioSummaries(rows, config.scenarios),
      threads,
      lazyTable,
      wasi,
      growth,
      notes,
    };
  } finally {
    progress.finish();
  }
}
