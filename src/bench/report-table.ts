/**
 * The bench report as text for a terminal: one block per module, then the
 * winners, the cross-module summary, threads and the lazy-table section.
 * Every ratio printed is against `fresh` measured in the same run.
 */
import { BENCH_SCENARIOS } from './bench-config-schema.js';
import { isMeasured, type BenchReport, type BenchRow } from './bench-results.js';
import { formatBytes, formatCount, formatDuration, formatFaults, formatRatio, formatTime, renderColumns } from './report-format.js';
import { growthSectionCells, growthSectionTitle } from './growth-section.js';
import { wasiSectionCells, wasiSectionTitle } from './wasi-section.js';

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  const kernel = m.kernel.split('-')[0] ?? m.kernel;
  return `${m.cpus} cores (${m.cpuModel}), ${m.platform === 'linux' ? 'Linux' : m.platform} ${kernel} ${m.arch}, Node ${m.node}`;
}

/** The scenario's short description, for headings. */
export function scenarioDescription(scenario: string): string {
  switch (scenario) {
    case 'call_empty_function':
      return 'instantiate, call an export that does nothing, release';
    case 'dirty_1mb_of_memory':
      return 'instantiate, write one byte in each 4 KiB page of the first 1 MiB, release';
    case 'instantiate_only':
      return 'instantiate, release';
    default:
      return scenario;
  }
}

function rowCells(row: BenchRow, first: boolean): string[] {
  const scenario = first ? row.scenario : '';
  if (!isMeasured(row)) return [scenario, row.subject, `${row.status}: ${row.reason}`];
  const ratio = row.subject === 'fresh' ? '1 (base)' : formatRatio(row.ratioToFresh);
  return [
    scenario,
    row.subject + (row.fallback === null ? '' : ' *'),
    formatTime(row.medianUs),
    formatTime(row.p99Us),
    formatCount(row.opsPerSec),
    formatFaults(row.minorFaultsPerOp),
    formatBytes(row.rssBytes),
    ratio,
  ];
}

function moduleBlock(report: BenchReport, name: string): string {
  const module = report.modules.find((m) => m.name === name);
  const rows = report.rows.filter((r) => r.module === name);
  const lines: string[] = [];
  if (module !== undefined) {
    const memory = module.memoryBytes === null ? 'no memory' : `${formatBytes(module.memoryBytes)} memory`;
    const image = module.imageBytes === 0 ? 'no initial data' : `image ${formatBytes(module.imageBytes)}`;
    const served = module.cow ? `${image}, copy-on-write` : `plain V8 (${module.fallbackReason ?? ''})`;
    lines.push(`${name} — ${module.description}`);
    lines.push(`  ${memory}, ${served}; ${module.imports}; call_empty_function calls ${module.callTarget === null ? 'nothing (no safe export)' : module.callTarget.how}`);
  } else {
    lines.push(name);
  }
  const table: string[][] = [['scenario', 'strategy', 'median', 'p99', 'ops/s', 'faults/op', 'RSS', 'vs fresh']];
  let previous = '';
  for (const row of rows) {
    table.push(rowCells(row, row.scenario !== previous));
    previous = row.scenario;
  }
  lines.push(renderColumns(table, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']));
  if (rows.some((r) => isMeasured(r) && r.fallback !== null)) {
    lines.push('  * served by plain V8 instantiation: the module cannot be pooled (see `cowpool inspect`)');
  }
  return lines.join('\n');
}

export function winnersBlock(report: BenchReport): string {
  if (report.winners.length === 0) return '';
  const table = report.winners.map((w) => [
    w.module,
    w.scenario,
    w.subject,
    formatTime(w.medianUs),
    w.ratioToFresh === null ? '' : `${formatRatio(w.ratioToFresh)} fresh`,
    w.runnerUp === null ? '' : `${formatRatio(w.runnerUp.ratio)} ahead of ${w.runnerUp.subject}`,
  ]);
  return `Fastest per module and scenario (ratio = fresh median / median; raw is memory only and not ranked):\n${renderColumns(table, ['l', 'l', 'l', 'r', 'r', 'l'])}`;
}

export function summaryBlock(report: BenchReport): string {
  const scenarios = report.scenarios.filter((s) => s.subjects.length > 0);
  if (scenarios.length === 0) return '';
  const subjects = [...new Set(scenarios.flatMap((s) => s.subjects.map((x) => x.subject)))];
  const table: string[][] = [['strategy', ...scenarios.map((s) => s.scenario)]];
  for (const subject of subjects) {
    table.push([
      subject,
      ...scenarios.map((s) => {
        const entry = s.subjects.find((x) => x.subject === subject);
        return entry === undefined ? '—' : formatRatio(entry.geomeanRatioToFresh) + (s.best === subject ? ' best' : '');
      }),
    ]);
  }
  return `Across modules — geometric mean of (fresh median / median), higher is faster:\n${renderColumns(table, ['l', ...scenarios.map(() => 'r' as const)])}`;
}

export function threadsBlock(report: BenchReport): string {
  const t = report.threads;
  if (t.status === 'skipped') return `Threads: skipped — ${t.reason}`;
  const subjects = [...new Set(t.rows.map((r) => r.subject))];
  const table: string[][] = [['strategy', ...t.counts.map((n) => `${n} thread${n === 1 ? '' : 's'}`)]];
  for (const subject of subjects) {
    table.push([
      subject,
      ...t.counts.map((n) => {
        const row = t.rows.find((r) => r.subject === subject && r.threads === n);
        if (row === undefined || row.status !== 'measured') return 'unavailable';
        return n === 1 ? `${formatCount(row.opsPerSec)} ops/s` : `${formatCount(row.opsPerSec)} (${formatRatio(row.scaling)})`;
      }),
    ]);
  }
  const reasons = [...new Set(t.rows.filter((r) => r.status !== 'measured').map((r) => `  ${r.subject}: ${r.reason ?? ''}`))];
  return [
    `Threads — ${t.module} · ${t.scenario}, all threads at once for ${t.timeMs} ms (median of ${t.rounds} interleaved rounds); total ops/s (scaling vs 1 thread), ${report.machine.cpus} cores:`,
    renderColumns(table, ['l', ...t.counts.map(() => 'r' as const)]),
    ...reasons,
  ].join('\n');
}

export function lazyTableBlock(report: BenchReport): string {
  const l = report.lazyTable;
  if (l.status === 'skipped') return `Lazy funcref table: skipped — ${l.reason}`;
  const table = [
    ['', 'eager', 'lazy', 'lazy is'],
    ['new table per instance', formatTime(l.construct.eagerMedianUs), formatTime(l.construct.lazyMedianUs), `${formatRatio(l.construct.ratio)} faster`],
    ['pooled table, reset', formatTime(l.reset.eagerMedianUs), formatTime(l.reset.lazyMedianUs), `${formatRatio(l.reset.ratio)} faster`],
  ];
  return `Lazy funcref table — ${formatCount(l.entries)} entries, median of ${l.rounds} rounds of acquire + 8 calls + reset:\n${renderColumns(table, ['l', 'r', 'r', 'r'])}`;
}

export function wasiBlock(report: BenchReport): string {
  const w = report.wasi;
  if (w === undefined) return '';
  if (w.status === 'skipped') return `WASI: skipped — ${w.reason}`;
  return `${wasiSectionTitle(w)}:\n${renderColumns(wasiSectionCells(w), ['l', 'r', 'r', 'r', 'r', 'r'])}`;
}

export function growthBlock(report: BenchReport): string {
  const g = report.growth;
  if (g === undefined) return '';
  if (g.status === 'skipped') return `Memories that grow per request: skipped — ${g.reason}`;
  return `${growthSectionTitle(g)}:\n${renderColumns(growthSectionCells(g), ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'])}`;
}

/** The whole report as text. */
export function formatBenchTable(report: BenchReport): string {
  const scenarios = BENCH_SCENARIOS.filter((s) => report.config.scenarios.includes(s));
  const blocks = [
    `cowpool bench — ${machineLine(report)} — ${formatDuration(report.durationMs)}`,
    scenarios.map((s) => `  ${s}: ${scenarioDescription(s)}`).join('\n'),
    ...report.modules.map((m) => moduleBlock(report, m.name)),
    winnersBlock(report),
    summaryBlock(report),
    threadsBlock(report),
    lazyTableBlock(report),
    wasiBlock(report),
    growthBlock(report),
    report.notes.length === 0 ? '' : report.notes.map((n) => `note: ${n}`).join('\n'),
    'Absolute times depend on the machine; the ratios, measured side by side in one run, are what carry over.',
  ];
  return `${blocks.filter((b) => b !== '').join('\n\n')}\n`;
}
