/**
 * Number formatting shared by the bench's table, Markdown and SVG outputs,
 * so the three say the same thing in the same words.
 */

/** `0.85 µs`, `12.3 µs`, `456 µs`, `1.23 ms`, `1.23 s` — three significant digits. */
export function formatTime(us: number): string {
  if (!Number.isFinite(us)) return '—';
  if (us >= 1e6) return `${(us / 1e6).toPrecision(3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toPrecision(3)} ms`;
  return `${us.toPrecision(3)} µs`;
}

/** `1,234,567` */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** Faults per operation: one decimal below 100, whole numbers above. */
export function formatFaults(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return n >= 100 ? formatCount(n) : n.toFixed(1);
}

/** `512 KiB`, `93 MiB`, `1.5 GiB` */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A ratio as `74×`, `9.7×`, `0.81×`; `—` when there is none. */
export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '—';
  if (ratio >= 100) return `${Math.round(ratio)}×`;
  if (ratio >= 10) return `${ratio.toFixed(0)}×`;
  return `${ratio.toFixed(2)}×`;
}

/** `1m 32s`, `48.2s` */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/**
 * Text columns padded to their widest cell. `align[i]` is `l` or `r`; a row
 * with fewer cells ends early (its last cell may then run past the columns).
 */
export function renderColumns(rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) {
    // A short row's last cell is free text: it does not widen the columns.
    const fixed = row.length === align.length ? row : row.slice(0, -1);
    fixed.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  }
  return rows
    .map((row) => {
      const cells = row.map((cell, i) => {
        const last = i === row.length - 1;
        const width = widths[i] ?? 0;
        const pad = Math.max(0, width - [...cell].length);
        if (align[i] === 'r') return ' '.repeat(pad) + cell;
        return last ? cell : cell + ' '.repeat(pad);
      });
      return `${indent}${cells.join('  ')}`.trimEnd();
    })
    .join('\n');
}
