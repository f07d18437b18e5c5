import { describe, expect, it } from 'vitest';
import { measureLazyTable } from '../src/table/lazy-table-measure.js';

// Shape only: timings are for the bench harness to report, never to assert.
describe('measureLazyTable', () => {
  for (const acquire of ['construct', 'reset'] as const) {
    it(`returns one finite, non-negative time per round for both tables (acquire by ${acquire})`, () => {
      const result = measureLazyTable(2000, 7, { acquire, gets: 4 });
      expect(Object.keys(result).sort()).toEqual(['eager', 'lazy']);
      for (const times of [result.eager, result.lazy]) {
        expect(times).toHaveLength(7);
        for (const t of times) {
          expect(Number.isFinite(t)).toBe(true);
          expect(t).toBeGreaterThanOrEqual(0);
        }
      }
    });
  }
});
