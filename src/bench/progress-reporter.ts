/**
 * Progress of a bench run on stderr. On a terminal: one bar redrawn in
 * place, shown only once the run has taken more than a second (a quick run
 * prints nothing). Elsewhere (a pipe, a CI log): one line per finished task,
 * since a redrawn line would only make a mess of the log.
 *
 *   [##########··········]  52/130  0:41  sparse-16mib · dirty_1mb_of_memory · cow:madvise
 *
 * Invariant: `total` is null until start(), then the number of steps of the run.
 * Invariant: `done` <= `total`: steps finished so far (clamped, so a
 *            miscounted total never draws a bar past its end).
 * Invariant: `started` is the clock reading at start().
 * Invariant: `drawn` is true iff the terminal's current line holds the bar.
 */
import { CowpoolError } from '../errors.js';


export interface ProgressSink {
  start(total: number): void;
  /** A task finished `steps` steps of the total (default 1); `summary` is a few words about its result. */
  task(label: string, summary: string, steps?: number): void;
  finish(): void;
}

export interface ProgressOutput {
  write(text: string): void;
  /** True when the output is a terminal that understands carriage return and erase-line. */
  isTTY: boolean;
  /** Terminal width in columns (default 80). */
  columns?: number;
  /** Milliseconds since some fixed point (injected so tests need no clock). */
  now?: () => number;
}

/** Delay before a bar appears: runs shorter than this stay silent on a terminal. */
const SHOW_AFTER_MS = 1000;
const BAR_WIDTH = 20;

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class ProgressReporter implements ProgressSink {
  #total: number | null = null;
  #done = 0;
  #started = 0;
  #drawn = false;
  readonly #out: ProgressOutput;
  readonly #now: () => number;

  constructor(out: ProgressOutput) {
    this.#out = out;
    this.#now = out.now ?? (() => performance.now());
  }

  start(total: number): void {
    this.#total = total;
    this.#done = 0;
    this.#started = this.#now();
  }

  task(label: string, summary: string, steps = 1): void {
    const total = this.#total;
    if (total === null) throw new CowpoolError('INVALID_ARGUMENT', 'ProgressReporter.task(): call start(total) first');
    this.#done = Math.min(total, this.#done + steps);
    const elapsed = this.#now() - this.#started;
    const counter = `${String(this.#done).padStart(String(total).length)}/${total}`;
    if (!this.#out.isTTY) {
      this.#out.write(`bench [${counter}] ${label}: ${summary}\n`);
      return;
    }
    if (elapsed < SHOW_AFTER_MS && !this.#drawn) return;
    const filled = total === 0 ? BAR_WIDTH : Math.round((this.#done / total) * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'·'.repeat(BAR_WIDTH - filled)}]`;
    const line = `${bar} ${counter}  ${clock(elapsed)}  ${label}`;
    // A terminal that reports no size (0 columns, e.g. under `script`) gets the classic 80.
    const columns = this.#out.columns !== undefined && this.#out.columns > 0 ? this.#out.columns : 80;
    const width = Math.max(20, columns - 1);
    this.#out.write(`\r\x1b[K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.#drawn = true;
  }

  finish(): void {
    if (this.#drawn) this.#out.write('\r\x1b[K');
    this.#drawn = false;
  }
}

/** A sink that reports nothing. */
export const SILENT_PROGRESS: ProgressSink = { start: () => undefined, task: () => undefined, finish: () => undefined };
