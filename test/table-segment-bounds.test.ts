import { describe, expect, it } from 'vitest';
import { CowpoolError } from '../src/errors.js';
import { EagerFuncTable } from '../src/table/eager-func-table.js';
import { LazyFuncTable } from '../src/table/lazy-func-table.js';

function rejection(build: () => unknown): CowpoolError {
  try {
    build();
  } catch (e) {
    expect(e).toBeInstanceOf(CowpoolError);
    return e as CowpoolError;
  }
  throw new Error('expected the table to be refused');
}

const materialize = (f: number) => f;

describe('table construction checks its arguments', () => {
  for (const [name, Table] of [['LazyFuncTable', LazyFuncTable], ['EagerFuncTable', EagerFuncTable]] as const) {
    it(`${name} names the segment that does not fit`, () => {
      const error = rejection(
        () => new Table(10, [{ offset: 0, funcIndices: [1, 2] }, { offset: 8, funcIndices: [3, 4, 5] }], materialize),
      );
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('element segment 1');
      expect(error.message).toContain('[8, 11)');
      expect(error.message).toContain('10 entries');
    });

    it(`${name} accepts a segment ending exactly at the table's end, and an empty one at the end`, () => {
      const table = new Table(4, [{ offset: 2, funcIndices: [5, 6] }, { offset: 4, funcIndices: [] }], materialize);
      expect(table.get(3)).toBe(6);
    });

    it(`${name} refuses a bad size, maximum or offset`, () => {
      expect(rejection(() => new Table(-1, [], materialize)).code).toBe('INVALID_ARGUMENT');
      expect(rejection(() => new Table(1.5, [], materialize)).code).toBe('INVALID_ARGUMENT');
      expect(rejection(() => new Table(4, [], materialize, 3)).code).toBe('INVALID_ARGUMENT');
      expect(rejection(() => new Table(4, [{ offset: -1, funcIndices: [1] }], materialize)).message).toContain(
        'element segment 0',
      );
      expect(rejection(() => new Table(4, [], materialize).grow(-1)).code).toBe('INVALID_ARGUMENT');
    });
  }
});
