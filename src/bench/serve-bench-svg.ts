/**
 * `cowpool bench serve --svg FILE`: requests per second of each server as
 * horizontal bars on a linear axis, with p50/p99 and the ratio to `naive`
 * beside each bar.
 *
 *   floor              ████████████████████████  14,473 req/s  p50 0 ms  p99 5 ms
 *   naive              █                            450 req/s  ×1.00
 *   cowpool (1 worker) ██████                     3,800 req/s  ×8.45
 */
import type { ServeBenchReport } from './serve-bench.js';

const WIDTH = 900;
const LABEL = 170;
const BAR_MAX = 360;
const ROW = 30;
const TOP = 58;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

const COLOURS: Readonly<Record<string, string>> = { floor: '#bdbdbd', naive: '#7f7f7f', 'node-wasi': '#e08a2c' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderServeBenchSvg(report: ServeBenchReport, machine: string): string {
  const naive = report.rows.find((r) => r.subject === 'naive')?.requestsPerSecond ?? Number.NaN;
  const top = Math.max(1, ...report.rows.map((r) => r.requestsPerSecond));
  const height = TOP + report.rows.length * ROW + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="cowpool bench serve: requests per second">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold" ${FONT}>cowpool bench serve — requests per second (higher is better)</text>`,
    `<text x="12" y="40" font-size="11" fill="#555" ${FONT}>${escape(`${machine}; ${report.connections} connections, ${report.durationSeconds} s per server; a fresh instance per request except floor`)}</text>`,
  ];
  report.rows.forEach((r, i) => {
    const y = TOP + i * ROW;
    const w = Math.max(1, (r.requestsPerSecond / top) * BAR_MAX);
    const colour = COLOURS[r.subject] ?? '#08519c';
    const ratio = Number.isFinite(naive) && naive > 0 ? `×${(r.requestsPerSecond / naive).toFixed(2)} naive` : '';
    out.push(`<text x="${LABEL - 8}" y="${y + 15}" font-size="12" text-anchor="end" ${FONT}>${escape(r.subject)}</text>`);
    out.push(`<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 10}" fill="${colour}"/>`);
    out.push(`<text x="${LABEL + w + 6}" y="${y + 15}" font-size="11" ${FONT}>${Math.round(r.requestsPerSecond).toLocaleString('en-US')} req/s · p50 ${r.p50Ms} ms · p99 ${r.p99Ms} ms ${r.subject === 'naive' ? '' : `· ${ratio}`}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
