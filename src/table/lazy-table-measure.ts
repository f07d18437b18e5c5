/**
 * Side-by-side timing of LazyFuncTable and EagerFuncTable over the life of a
 * pooled instance's table: acquire it, call through a few entries, release
 * it. The bench harness reports the ratio; nothing here judges the numbers.
 */
import { performance } from 'node:perf_hooks';
import { EagerFuncTable } from './eager-func-table.js';
import type { ElementInit, FuncTable } from './element-segments.js';
import { LazyFuncTable } from './lazy-func-table.js';

export interface LazyTableMeasureOptions {
  /**
   * How a table is acquired each round: 'construct' builds a new one (a
   * fresh instance), 'reset' reuses one table that the previous round reset
   * on release (a pooled instance). Default 'construct'.
   */
  acquire?: 'construct' | 'reset';
  /** Entries read per round, spread over the table. Default 8. */
  gets?: number;
}

export interface LazyTableMeasurement {
  /** Milliseconds per round for EagerFuncTable, in round order. */
  eager: number[];
  /** Milliseconds per round for LazyFuncTable, in round order. */
  lazy: number[];
}

/** The last round's sum of called entries: written so the reads cannot be optimised away. */
let checksum = 0;

/** Stands in for making a function object: a small allocation per entry, as a runtime's wrapper would be. */
function materialize(funcIndex: number): () => number {
  return () => funcIndex;
}

/**
 * Time `rounds` rounds of acquire + `gets` reads + reset for a table of
 * `entries` funcrefs filled by one element segment, alternating the two
 * implementations round by round so drift in the machine affects both alike.
 */
export function measureLazyTable(entries = 20_000, rounds = 100, options: LazyTableMeasureOptions = {}): LazyTableMeasurement {
  const acquire = options.acquire ?? 'construct';
  const gets = options.gets ?? 8;
  const segments: ElementInit[] = [{ offset: 0, funcIndices: Array.from({ length: entries }, (_, i) => i) }];
  // Fixed, spread-out indices: the same calls for both tables in every round.
  const indices = Array.from({ length: Math.min(gets, entries) }, (_, k) => Math.floor(((k + 0.5) * entries) / gets));
  const kinds = {
    eager: () => new EagerFuncTable(entries, segments, materialize),
    lazy: () => new LazyFuncTable(entries, segments, materialize),
  } as const;
  const pooled = { eager: kinds.eager(), lazy: kinds.lazy() };
  const result: LazyTableMeasurement = { eager: [], lazy: [] };
  checksum = 0;
  for (let round = 0; round < rounds; round++) {
    for (const kind of ['eager', 'lazy'] as const) {
      const start = performance.now();
      const table: FuncTable<() => number> = acquire === 'construct' ? kinds[kind]() : pooled[kind];
      for (const i of indices) checksum += table.get(i)?.() ?? 0;
      table.reset();
      result[kind].push(performance.now() - start);
    }
  }
  return result;
}
