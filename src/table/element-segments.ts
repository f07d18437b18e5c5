/**
 * A funcref table's initial contents as its module's active element segments
 * define them, answerable one index at a time without building the table.
 *
 * Segments are applied in order, so a later segment overwrites an earlier one
 * where they overlap. Instead of painting every entry, the constructor cuts
 * the table into runs over which the same segment wins (a sweep over the
 * segment ends, O(k log k) for k segments), and `funcIndexAt` finds the run
 * by binary search: O(log k), independent of the table's size.
 *
 *   index:      0    4         10   12        20        size
 *   segment 0:  [==============)                                (offset 0, 10 entries)
 *   segment 1:       [===================)                      (offset 4, 16 entries)
 *   runs:       [ 0 )[    1              )[ none            )
 *   runStart:   0    4                    20
 *   runWinner:  0    1                    -1
 */
import { CowpoolError } from '../errors.js';

/** One active element segment: function indices (null = ref.null) written from `offset`. */
export interface ElementInit {
  offset: number;
  funcIndices: readonly (number | null)[];
}

/** The most entries a table may have: V8's own limit for wasm tables. */
export const TABLE_SIZE_LIMIT = 10_000_000;

/** What both table implementations offer; the pool and runtimes program against this. */
export interface FuncTable<F> {
  /** @throws CowpoolError INVALID_ARGUMENT when `i` is out of bounds (the caller turns it into a trap). */
  get(i: number): F | null;
  /** @throws CowpoolError INVALID_ARGUMENT when `i` is out of bounds. */
  set(i: number, value: F | null): void;
  /** Append `delta` entries set to `init`; returns the old size, or -1 (and changes nothing) past the maximum. */
  grow(delta: number, init?: F | null): number;
  /** Back to the segments' initial contents and initial size. */
  reset(): void;
  readonly size: number;
  /** Entries holding their current value (read, written or grown) since the last reset. */
  readonly materializedCount: number;
}

/** Check a table's size, maximum and segments; every failure names the argument and the fix. */
export function validateTable(size: number, segments: readonly ElementInit[], maximum: number | null): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > TABLE_SIZE_LIMIT) {
    throw new CowpoolError('INVALID_ARGUMENT', `table size ${size} is not a whole number from 0 to ${TABLE_SIZE_LIMIT} — pass the table's initial size`);
  }
  if (maximum !== null && (!Number.isSafeInteger(maximum) || maximum < size)) {
    throw new CowpoolError('INVALID_ARGUMENT', `table maximum ${maximum} is below the size ${size} or not a whole number — pass null for no maximum`);
  }
  segments.forEach((segment, n) => {
    const { offset, funcIndices } = segment;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + funcIndices.length > size) {
      throw new CowpoolError(
        'INVALID_ARGUMENT',
        `element segment ${n} covers [${offset}, ${offset + funcIndices.length}) but the table has ${size} entries — `
          + 'an out-of-bounds active segment makes instantiation trap; do not build a table for it',
      );
    }
  });
}

/** A max-heap of segment numbers: the latest segment covering a point wins. */
class MaxHeap {
  readonly #items: number[] = [];

  get top(): number | undefined {
    return this.#items[0];
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((items[parent] ?? 0) >= value) break;
      items[i] = items[parent] ?? 0;
      items[parent] = value;
      i = parent;
    }
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    items[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let big = i;
      if (l < items.length && (items[l] ?? 0) > (items[big] ?? 0)) big = l;
      if (r < items.length && (items[r] ?? 0) > (items[big] ?? 0)) big = r;
      if (big === i) break;
      const t = items[i] ?? 0;
      items[i] = items[big] ?? 0;
      items[big] = t;
      i = big;
    }
  }
}

export class ElementSegments {
  /** Invariant: the caller's segments, not copied (they are the module's, immutable once prepared). */
  readonly #segments: readonly ElementInit[];
  /** Invariant: strictly increasing; runStart[0] === 0 when there is any run; run j covers [runStart[j], runStart[j+1]) or to the table's end. */
  readonly #runStart: Int32Array;
  /** Invariant: runWinner[j] is the last segment covering run j, or -1 when none does. */
  readonly #runWinner: Int32Array;

  /** `segments` must already be valid for the table (see `validateTable`). */
  constructor(segments: readonly ElementInit[]) {
    this.#segments = segments;
    // Events: segment n starts at its offset and stops covering at its end.
    const points = new Set<number>([0]);
    for (const s of segments) {
      if (s.funcIndices.length === 0) continue;
      points.add(s.offset);
      points.add(s.offset + s.funcIndices.length);
    }
    const sorted = [...points].sort((a, b) => a - b);
    const byStart = segments
      .map((s, n) => ({ n, start: s.offset, end: s.offset + s.funcIndices.length }))
      .filter((e) => e.end > e.start)
      .sort((a, b) => a.start - b.start);
    const active = new MaxHeap();
    const runStart: number[] = [];
    const runWinner: number[] = [];
    let next = 0;
    for (const point of sorted) {
      while (next < byStart.length && (byStart[next]?.start ?? Infinity) <= point) active.push(byStart[next++]?.n ?? 0);
      // Drop finished segments lazily: only the top matters.
      for (let top = active.top; top !== undefined; top = active.top) {
        const seg = segments[top];
        if (seg !== undefined && seg.offset + seg.funcIndices.length > point) break;
        active.pop();
      }
      const winner = active.top ?? -1;
      if (runWinner.length > 0 && runWinner[runWinner.length - 1] === winner) continue;
      runStart.push(point);
      runWinner.push(winner);
    }
    this.#runStart = Int32Array.from(runStart);
    this.#runWinner = Int32Array.from(runWinner);
  }

  /** The function index the segments put at table index `i` (in bounds), or null for none / ref.null. */
  funcIndexAt(i: number): number | null {
    const starts = this.#runStart;
    // Largest j with starts[j] <= i; starts[0] is 0 so it exists.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= i) lo = mid;
      else hi = mid - 1;
    }
    const winner = this.#runWinner[lo] ?? -1;
    if (winner < 0) return null;
    const segment = this.#segments[winner];
    return segment === undefined ? null : (segment.funcIndices[i - segment.offset] ?? null);
  }
}
