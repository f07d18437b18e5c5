import { describe, expect, it } from 'vitest';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';
import { EagerFuncTable } from '../src/table/eager-func-table.js';
import { LazyFuncTable } from '../src/table/lazy-func-table.js';

const SEGMENTS = [{ offset: 0, funcIndices: [3, 4, null, 5] }];

describe('RawSlotPool.createTable follows the lazyTables setting', () => {
  it('lazy by default: nothing is materialised until read, reset forgets what was read', () => {
    const pool = new RawSlotPool();
    try {
      const made: number[] = [];
      const table = pool.createTable(8, SEGMENTS, (i) => {
        made.push(i);
        return `f${i}`;
      });
      expect(table).toBeInstanceOf(LazyFuncTable);
      expect(made).toEqual([]);
      expect(table.get(1)).toBe('f4');
      expect(table.get(2)).toBeNull();
      expect(made).toEqual([4]);
      table.reset();
      expect(table.materializedCount).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('eager when lazyTables is false: every entry is materialised up front', () => {
    const pool = new RawSlotPool({ lazyTables: false });
    try {
      const made: number[] = [];
      const table = pool.createTable(8, SEGMENTS, (i) => {
        made.push(i);
        return `f${i}`;
      });
      expect(table).toBeInstanceOf(EagerFuncTable);
      expect(made.sort()).toEqual([3, 4, 5]);
      expect(table.get(3)).toBe('f5');
    } finally {
      pool.close();
    }
  });

  it('refuses on a closed pool', () => {
    const pool = new RawSlotPool();
    pool.close();
    expect(() => pool.createTable(1, [], () => 0)).toThrow(expect.objectContaining({ code: 'POOL_CLOSED' }));
  });
});
