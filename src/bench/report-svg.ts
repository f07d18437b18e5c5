/**
 * The bench report as an SVG chart (`--svg FILE`): one panel per module,
 * bars grouped by scenario, one colour per strategy, median time on a log
 * axis shared by every panel (so panels compare), the ratio to `fresh`
 * written above each bar, and a last panel for thread scaling.
 *
 *   ┌ title, machine ───────────────────────────────────────────┐
 *   │ legend: ■ fresh ■ copy ■ cow:madvise ...                  │
 *   │ module panel:  10 ms ┤ ▇          ▇                       │
 *   │                 1 ms ┤ ▇ ▅        ▇ ▆   ...               │
 *   │                      └ call_empty_function  dirty_1mb ... │
 *   │ ... one panel per module, then threads ...                │
 *   └───────────────────────────────────────────────────────────┘
 */
import { isMeasured, type BenchReport } from './bench-results.js';
import { formatCount, formatTime } from './report-format.js';
import { machineLine } from './report-table.js';

const WIDTH = 980;
const LEFT = 84;
const RIGHT = 16;
const PLOT_HEIGHT = 190;
/** Panel height: title, plot, x labels. */
const PANEL_HEIGHT = PLOT_HEIGHT + 72;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Colours by strategy: grey for the baseline, blues and teals for cow's reset modes, distinct hues for the rest. */
const COLOURS: Readonly<Record<string, string>> = {
  fresh: '#7f7f7f',
  copy: '#e08a2c',
  'cow:madvise': '#08519c',
  'cow:keep-resident': '#3182bd',
  'cow:restore-dirty': '#6baed6',
  'cow:track-writes': '#17a2a2',
  'cow:auto': '#7fd3c8',
  reuse: '#8e44ad',
  raw: '#2ca25f',
};
const EXTRA_COLOURS = ['#d62728', '#bcbd22', '#8c564b', '#e377c2', '#17becf'];

function colourOf(subject: string, subjects: readonly string[]): string {
  return COLOURS[subject] ?? EXTRA_COLOURS[subjects.indexOf(subject) % EXTRA_COLOURS.length] ?? '#444';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A log axis covering [min, max]: whole decades from the one at or below
 * `min` to the one at or above `max`, at least one decade apart.
 */
export function logAxis(min: number, max: number): { low: number; high: number; ticks: number[] } {
  // Nothing measured (or nonsense): one decade from 1, rather than an endless tick loop.
  const usable = (v: number) => Number.isFinite(v) && v > 0;
  const lo = Math.floor(Math.log10(usable(min) ? min : 1));
  let hi = Math.ceil(Math.log10(usable(max) ? max : usable(min) ? min : 1));
  if (hi <= lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { low: 10 ** lo, high: 10 ** hi, ticks };
}

/** Height in pixels of `value` on a log axis of `plotHeight` pixels from `low` to `high`. */
export function logHeight(value: number, low: number, high: number, plotHeight: number): number {
  const clamped = Math.min(Math.max(value, low), high);
  return (Math.log10(clamped / low) / Math.log10(high / low)) * plotHeight;
}

/** A decade as an axis label: `1 µs`, `100 µs`, `10 ms`, `0.1 µs`. */
export function decadeTime(us: number): string {
  const trim = (v: number) => String(Number(v.toPrecision(1)));
  if (us >= 1e6) return `${trim(us / 1e6)} s`;
  if (us >= 1e3) return `${trim(us / 1e3)} ms`;
  return `${trim(us)} µs`;
}

/** A ratio short enough to sit above a narrow bar: `300×`, `23×`, `4.6×`, `0.8×`. */
export function barRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '';
  return ratio >= 10 ? `${Math.round(ratio)}×` : `${ratio.toFixed(1)}×`;
}

interface Bar {
  subject: string;
  value: number | null;
  label: string;
  /** Shown instead of a bar when value is null. */
  missing: string;
}

interface Group {
  label: string;
  bars: Bar[];
}

/** One panel: title, y axis with decade grid lines, grouped bars, group labels. */
function panel(
  top: number,
  title: string,
  groups: readonly Group[],
  axis: ReturnType<typeof logAxis>,
  format: { tick: (v: number) => string; value: (v: number) => string },
  yLabel: string,
  subjects: readonly string[],
): string {
  const out: string[] = [];
  const plotTop = top + 30;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const plotWidth = WIDTH - LEFT - RIGHT;
  out.push(`<text x="${LEFT}" y="${top + 16}" font-size="14" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`);
  for (const tick of axis.ticks) {
    const y = plotBottom - logHeight(tick, axis.low, axis.high, PLOT_HEIGHT);
    out.push(`<line x1="${LEFT}" y1="${y.toFixed(1)}" x2="${WIDTH - RIGHT}" y2="${y.toFixed(1)}" stroke="#ddd" stroke-width="1"/>`);
    out.push(`<text x="${LEFT - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#333" ${FONT}>${escapeXml(format.tick(tick))}</text>`);
  }
  const midY = (plotTop + plotBottom) / 2;
  out.push(`<text transform="translate(16 ${midY}) rotate(-90)" font-size="11" text-anchor="middle" fill="#333" ${FONT}>${escapeXml(yLabel)}</text>`);
  out.push(`<line x1="${LEFT}" y1="${plotTop}" x2="${LEFT}" y2="${plotBottom}" stroke="#333"/>`);
  out.push(`<line x1="${LEFT}" y1="${plotBottom}" x2="${WIDTH - RIGHT}" y2="${plotBottom}" stroke="#333"/>`);
  const groupWidth = plotWidth / Math.max(1, groups.length);
  for (const [g, group] of groups.entries()) {
    const x0 = LEFT + g * groupWidth;
    const barWidth = Math.min(30, (groupWidth * 0.86) / Math.max(1, group.bars.length));
    const start = x0 + (groupWidth - barWidth * group.bars.length) / 2;
    for (const [b, bar] of group.bars.entries()) {
      const x = start + b * barWidth;
      const cx = x + barWidth / 2;
      if (bar.value === null) {
        out.push(`<text x="${cx.toFixed(1)}" y="${plotBottom - 4}" font-size="8" text-anchor="middle" fill="#999" ${FONT}>${escapeXml(bar.missing)}</text>`);
        continue;
      }
      const h = Math.max(1, logHeight(bar.value, axis.low, axis.high, PLOT_HEIGHT));
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${(plotBottom - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${colourOf(bar.subject, subjects)}">`
          + `<title>${escapeXml(`${bar.subject}: ${format.value(bar.value)}${bar.label === '' ? '' : ` (${bar.label})`}`)}</title></rect>`,
      );
      if (bar.label !== '') {
        out.push(`<text x="${cx.toFixed(1)}" y="${(plotBottom - h - 3).toFixed(1)}" font-size="8.5" text-anchor="middle" fill="#222" ${FONT}>${escapeXml(bar.label)}</text>`);
      }
    }
    out.push(`<text x="${(x0 + groupWidth / 2).toFixed(1)}" y="${plotBottom + 16}" font-size="12" text-anchor="middle" fill="#111" ${FONT}>${escapeXml(group.label)}</text>`);
  }
  return out.join('\n');
}

function legend(top: number, subjects: readonly string[]): { svg: string; height: number } {
  const out: string[] = [];
  let x = LEFT;
  let y = top;
  for (const subject of subjects) {
    // About 6.6 px per character at 12 px: swatch, gap, name.
    const width = 22 + Math.ceil(subject.length * 6.6);
    if (x + width > WIDTH - RIGHT) {
      x = LEFT;
      y += 20;
    }
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colourOf(subject, subjects)}"/>`);
    out.push(`<text x="${x + 17}" y="${y}" font-size="12" ${FONT}>${escapeXml(subject)}</text>`);
    x += width + 10;
  }
  return { svg: out.join('\n'), height: y - top + 20 };
}

export function renderBenchSvg(report: BenchReport): string {
  const subjects = [...new Set(report.rows.map((r) => r.subject))];
  const measured = report.rows.filter(isMeasured);
  const axis = logAxis(Math.min(...measured.map((r) => r.medianUs)), Math.max(...measured.map((r) => r.medianUs)));
  const parts: string[] = [];
  parts.push(`<text x="${LEFT}" y="28" font-size="18" font-weight="bold" ${FONT}>cowpool bench — median time per operation (log scale; lower is faster)</text>`);
  parts.push(`<text x="${LEFT}" y="48" font-size="12" fill="#444" ${FONT}>${escapeXml(machineLine(report))}</text>`);
  parts.push(`<text x="${LEFT}" y="64" font-size="12" fill="#444" ${FONT}>Above each bar: how many times faster than fresh, measured in the same run (fresh median / median).</text>`);
  const key = legend(90, subjects);
  parts.push(key.svg);
  let top = 90 + key.height;
  for (const module of report.modules) {
    const rows = report.rows.filter((r) => r.module === module.name);
    const scenarios = [...new Set(rows.map((r) => r.scenario))];
    const groups = scenarios.map((scenario) => ({
      label: scenario,
      bars: subjects.map((subject): Bar => {
        const row = rows.find((r) => r.scenario === scenario && r.subject === subject);
        if (row === undefined || !isMeasured(row)) return { subject, value: null, label: '', missing: row?.status === 'unavailable' ? 'fail' : 'n/a' };
        return { subject, value: row.medianUs, label: subject === 'fresh' ? '' : barRatio(row.ratioToFresh), missing: '' };
      }),
    }));
    parts.push(panel(top, `${module.name} — ${module.description}`, groups, axis, { tick: decadeTime, value: formatTime }, 'median per operation', subjects));
    top += PANEL_HEIGHT;
  }
  const t = report.threads;
  if (t.status === 'measured' && t.rows.some((r) => r.status === 'measured')) {
    const threadSubjects = [...new Set(t.rows.map((r) => r.subject))];
    const values = t.rows.filter((r) => r.status === 'measured').map((r) => r.opsPerSec);
    const threadAxis = logAxis(Math.min(...values), Math.max(...values));
    const groups = t.counts.map((n) => ({
      label: `${n} thread${n === 1 ? '' : 's'}`,
      bars: threadSubjects.map((subject): Bar => {
        const row = t.rows.find((r) => r.subject === subject && r.threads === n);
        if (row === undefined || row.status !== 'measured') return { subject, value: null, label: '', missing: 'fail' };
        return { subject, value: row.opsPerSec, label: n === 1 ? '' : barRatio(row.scaling), missing: '' };
      }),
    }));
    const title = `threads — ${t.module} · ${t.scenario}: total ops/s, higher is better (above: vs 1 thread)`;
    parts.push(panel(top, title, groups, threadAxis, { tick: formatCount, value: formatCount }, 'operations per second', subjects));
    top += PANEL_HEIGHT;
  }
  const height = top + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
