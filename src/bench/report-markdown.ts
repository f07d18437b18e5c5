/**
 * The bench report as Markdown (`--out PREFIX` writes PREFIX.md): a compact
 * matrix of medians and ratios, the summaries, and the full table folded
 * away for those who want p99, faults and RSS.
 */
import { isMeasured, type BenchReport, type MeasuredRow } from './bench-results.js';
import { machineLine, scenarioDescription } from './report-table.js';
import { growthSectionCells, growthSectionTitle } from './growth-section.js';
import { wasiSectionCells, wasiSectionTitle } from './wasi-section.js';
import { formatBytes, formatCount, formatDuration, formatFaults, formatRatio, formatTime } from './report-format.js';

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const lines = [
    `| ${header.map(escape).join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** Rows: module × scenario; columns: subjects; cells: median and ratio, the fastest in bold. */
export function ratioMatrix(report: BenchReport): string {
  const subjects = [...new Set(report.rows.map((r) => r.subject))];
  const groups: { module: string; scenario: string }[] = [];
  for (const row of report.rows) {
    if (!groups.some((g) => g.module === row.module && g.scenario === row.scenario)) groups.push({ module: row.module, scenario: row.scenario });
  }
  const body = groups.map(({ module, scenario }) => {
    const winner = report.winners.find((w) => w.module === module && w.scenario === scenario)?.subject;
    return [
      module,
      scenario,
      ...subjects.map((subject) => {
        const row = report.rows.find((r) => r.module === module && r.scenario === scenario && r.subject === subject);
        if (row === undefined) return '';
        if (!isMeasured(row)) return row.status === 'skipped' ? 'n/a' : 'unavailable';
        const text = subject === 'fresh' ? formatTime(row.medianUs) : `${formatTime(row.medianUs)} (${formatRatio(row.ratioToFresh)})`;
        return subject === winner ? `**${text}**` : text;
      }),
    ];
  });
  return table(['module', 'scenario', ...subjects], body, ['l', 'l', ...subjects.map(() => 'r' as const)]);
}

function summaryTable(report: BenchReport): string {
  const scenarios = report.scenarios.filter((s) => s.subjects.length > 0);
  if (scenarios.length === 0) return '';
  const subjects = [...new Set(scenarios.flatMap((s) => s.subjects.map((x) => x.subject)))];
  const rows = subjects.map((subject) => [
    subject,
    ...scenarios.map((s) => {
      const entry = s.subjects.find((x) => x.subject === subject);
      if (entry === undefined) return '—';
      const text = formatRatio(entry.geomeanRatioToFresh);
      return s.best === subject ? `**${text}**` : text;
    }),
  ]);
  return table(['strategy', ...scenarios.map((s) => s.scenario)], rows, ['l', ...scenarios.map(() => 'r' as const)]);
}

function threadsTable(report: BenchReport): string {
  const t = report.threads;
  if (t.status === 'skipped') return `Skipped: ${t.reason}.`;
  const subjects = [...new Set(t.rows.map((r) => r.subject))];
  const rows = subjects.map((subject) => [
    subject,
    ...t.counts.map((n) => {
      const row = t.rows.find((r) => r.subject === subject && r.threads === n);
      if (row === undefined || row.status !== 'measured') return 'unavailable';
      return n === 1 ? formatCount(row.opsPerSec) : `${formatCount(row.opsPerSec)} (${formatRatio(row.scaling)})`;
    }),
  ]);
  return `${t.module} · ${t.scenario}, every thread at once for ${t.timeMs} ms (median of ${t.rounds} interleaved rounds); total ops/s (scaling vs 1 thread):\n\n`
    + table(['strategy', ...t.counts.map((n) => `${n} thread${n === 1 ? '' : 's'}`)], rows, ['l', ...t.counts.map(() => 'r' as const)]);
}

function lazyTable(report: BenchReport): string {
  const l = report.lazyTable;
  if (l.status === 'skipped') return `Skipped: ${l.reason}.`;
  return `${formatCount(l.entries)} entries, median of ${l.rounds} rounds of acquire + 8 calls + reset:\n\n`
    + table(['', 'eager', 'lazy', 'lazy is'], [
      ['new table per instance', formatTime(l.construct.eagerMedianUs), formatTime(l.construct.lazyMedianUs), `${formatRatio(l.construct.ratio)} faster`],
      ['pooled table, reset', formatTime(l.reset.eagerMedianUs), formatTime(l.reset.lazyMedianUs), `${formatRatio(l.reset.ratio)} faster`],
    ], ['l', 'r', 'r', 'r']);
}

function wasiTable(report: BenchReport): string {
  const w = report.wasi;
  if (w === undefined) return '';
  if (w.status === 'skipped') return `Skipped: ${w.reason}.`;
  const [header, ...rows] = wasiSectionCells(w);
  return `${wasiSectionTitle(w)}:\n\n${table(header as string[], rows, ['l', 'r', 'r', 'r', 'r', 'r'])}`;
}

function growthTable(report: BenchReport): string {
  const g = report.growth;
  if (g === undefined) return '';
  if (g.status === 'skipped') return `Skipped: ${g.reason}.`;
  const [header, ...rows] = growthSectionCells(g);
  return `${growthSectionTitle(g)}:\n\n${table(header as string[], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'])}`;
}

function detailTable(report: BenchReport): string {
  const rows = report.rows.map((row) => {
    if (!isMeasured(row)) return [row.module, row.scenario, row.subject, row.status, '', '', '', '', '', '', row.reason];
    const r: MeasuredRow = row;
    return [
      r.module, r.scenario, r.subject, formatTime(r.medianUs), formatTime(r.p99Us), formatCount(r.opsPerSec),
      formatFaults(r.minorFaultsPerOp), formatBytes(r.bytesRestoredPerOp), formatBytes(r.residentPrivateBytes), formatBytes(r.rssBytes),
      r.subject === 'fresh' ? '1 (base)' : formatRatio(r.ratioToFresh),
    ];
  });
  return table(['module', 'scenario', 'strategy', 'median', 'p99', 'ops/s', 'faults/op', 'restored/op', 'resident private', 'RSS', 'vs fresh'], rows,
    ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

export function formatBenchMarkdown(report: BenchReport): string {
  const scenarios = [...new Set(report.rows.map((r) => r.scenario))];
  const modules = report.modules.map((m) => `- **${m.name}** — ${m.description}; ${m.imports}; \`call_empty_function\` calls ${m.callTarget === null ? 'nothing (no safe export)' : m.callTarget.how}.`);
  const parts = [
    '# cowpool bench',
    `${machineLine(report)}; run took ${formatDuration(report.durationMs)} (${report.startedAt}).`,
    'Median time per operation; in brackets, how many times faster than `fresh` in the same run (fresh median / median). '
      + 'The fastest per row is in bold. Absolute times depend on the machine; the ratios are what carry over.',
    scenarios.map((s) => `- \`${s}\`: ${scenarioDescription(s)}`).join('\n'),
    ratioMatrix(report),
    '## Modules',
    modules.join('\n'),
    '## Across modules',
    'Geometric mean over the modules of the ratio to `fresh`, per scenario (higher is faster):',
    summaryTable(report),
    '## Threads',
    threadsTable(report),
    '## Lazy funcref table',
    lazyTable(report),
    ...(report.wasi === undefined ? [] : ['## WASI commands', wasiTable(report)]),
    ...(report.growth === undefined ? [] : ['## Memories that grow per request', growthTable(report)]),
    '## Every row',
    `<details><summary>median, p99, throughput, minor page faults and bytes restored by the reset per operation, private bytes idle slots keep resident, RSS after the task</summary>\n\n${detailTable(report)}\n\n</details>`,
    ...(report.notes.length === 0 ? [] : ['## Notes', report.notes.map((n) => `- ${n}`).join('\n')]),
  ];
  return `${parts.filter((p) => p !== '').join('\n\n')}\n`;
}
