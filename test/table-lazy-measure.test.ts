/**
 * measureLazyTable's shape, on a clock that advances one millisecond per
 * reading: each round is timed on its own (start to end of that round, not
 * cumulative), both tables run the same reads every round, alternating, and
 * each table is reset after its round. The real timings are the bench's to
 * report, never a test's to judge.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EagerFuncTable } from '../src/table/eager-func-table.js';
import { LazyFuncTable } from '../src/table/lazy-func-table.js';
import { measureLazyTable } from '../src/table/lazy-table-measure.js';

afterEach(() => vi.restoreAllMocks());

describe('measureLazyTable', () => {
  for (const acquire of ['construct', 'reset'] as const) {
    it(`times each round of both tables on its own, with the same reads in each (acquire by ${acquire})`, () => {
      let clock = 0;
      vi.spyOn(performance, 'now').mockImplementation(() => ++clock);
      const calls: string[] = [];
      const record = (kind: string, method: 'get' | 'reset', proto: { get: unknown; reset: unknown }) => {
        const original = proto[method] as (this: unknown, ...args: unknown[]) => unknown;
        vi.spyOn(proto as { [k: string]: (...args: unknown[]) => unknown }, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
          calls.push(method === 'get' ? `${kind}.get(${String(args[0])})` : `${kind}.reset`);
          return original.apply(this, args);
        });
      };
      record('eager', 'get', EagerFuncTable.prototype);
      record('eager', 'reset', EagerFuncTable.prototype);
      record('lazy', 'get', LazyFuncTable.prototype);
      record('lazy', 'reset', LazyFuncTable.prototype);

      const result = measureLazyTable(2000, 7, { acquire, gets: 4 });
      expect(Object.keys(result).sort()).toEqual(['eager', 'lazy']);
      // One reading before and one after each round's work: exactly one tick.
      expect(result.eager).toEqual(Array(7).fill(1));
      expect(result.lazy).toEqual(Array(7).fill(1));
      const round = (kind: string) => [250, 750, 1250, 1750].map((i) => `${kind}.get(${i})`).concat(`${kind}.reset`);
      const gets = (kind: string) => [250, 750, 1250, 1750].map((i) => `${kind}.get(${i})`);
      expect(calls.filter((c) => c.includes('.get('))).toEqual(Array.from({ length: 7 }, () => [...gets('eager'), ...gets('lazy')]).flat());
      // Each round ends with its table's reset (construction may reset too).
      for (const kind of ['eager', 'lazy']) expect(calls.filter((c) => c === `${kind}.reset`).length).toBeGreaterThanOrEqual(7);
      expect(calls.at(-1)).toBe('lazy.reset');
    });
  }
});
