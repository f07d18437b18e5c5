import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCowpoolError } from '../src/errors.js';
import { EagerFuncTable } from '../src/table/eager-func-table.js';
import { LazyFuncTable, type ElementInit } from '../src/table/lazy-func-table.js';

type Op =
  | { op: 'get'; i: number }
  | { op: 'set'; i: number; value: string | null }
  | { op: 'grow'; delta: number; init: string | null }
  | { op: 'reset' };

/** A table description whose segments all fit (out-of-bounds segments are refused at construction). */
// Small tables, and tables spanning several of LazyFuncTable's 1024-entry chunks.
const tableArb = fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 1000, max: 3500 })).chain((size) =>
  fc.record({
    size: fc.constant(size),
    maximum: fc.option(fc.integer({ min: size, max: size + 1500 }), { nil: null }),
    segments: fc.array(
      fc.integer({ min: 0, max: size }).chain((offset) =>
        fc.record({
          offset: fc.constant(offset),
          funcIndices: fc.array(fc.option(fc.nat({ max: 50 }), { nil: null, freq: 4 }), { maxLength: size - offset }),
        }),
      ),
      { maxLength: 6 },
    ),
  }),
);

const valueArb = fc.option(fc.string({ minLength: 1, maxLength: 3 }).map((s) => `set:${s}`), { nil: null });
/** Operations on a table of about `size` entries: indices reach a little past its end, and before its start. */
const opsArb = (size: number): fc.Arbitrary<Op[]> => {
  const index = fc.integer({ min: -2, max: size + 50 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('get' as const), i: index }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), i: index, value: valueArb }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('grow' as const),
        delta: fc.oneof(fc.nat({ max: 20 }), fc.nat({ max: 1200 })),
        init: valueArb,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const) }) },
  );
  return fc.array(op, { maxLength: 60 });
};

/** What the segments put at each index, by painting them in order: the obvious reading of the spec. */
function paint(size: number, segments: readonly ElementInit[]): (number | null)[] {
  const out = new Array<number | null>(size).fill(null);
  for (const s of segments) s.funcIndices.forEach((f, k) => (out[s.offset + k] = f));
  return out;
}

/** Run `f`, turning a thrown CowpoolError into its code so both tables' failures can be compared. */
function outcome<T>(f: () => T): T | { threw: string } {
  try {
    return f();
  } catch (e) {
    if (!isCowpoolError(e)) throw e;
    return { threw: e.code };
  }
}

describe('LazyFuncTable', () => {
  it('is observationally identical to EagerFuncTable and materialises only entries read since the last reset', () => {
    fc.assert(
      fc.property(tableArb.chain((t) => fc.tuple(fc.constant(t), opsArb(t.size))), ([{ size, maximum, segments }, ops]) => {
        const initial = paint(size, segments);
        const calls: number[] = [];
        const lazy = new LazyFuncTable(size, segments, (f) => { calls.push(f); return `fn:${f}`; }, maximum);
        const eager = new EagerFuncTable(size, segments, (f) => `fn:${f}`, maximum);
        expect(calls).toEqual([]);
        // Indices read, written or grown since the last reset: those hold their current value.
        const current = new Set<number>();
        for (const op of ops) {
          const callsBefore = calls.length;
          if (op.op === 'get') {
            const inBounds = op.i >= 0 && op.i < lazy.size;
            const expectCall = inBounds && !current.has(op.i) && initial[op.i] != null;
            const got = outcome(() => lazy.get(op.i));
            expect(got).toEqual(outcome(() => eager.get(op.i)));
            if (!inBounds) expect(got).toEqual({ threw: 'INVALID_ARGUMENT' });
            expect(calls.slice(callsBefore)).toEqual(expectCall ? [initial[op.i]] : []);
            if (inBounds) current.add(op.i);
          } else if (op.op === 'set') {
            expect(outcome(() => lazy.set(op.i, op.value))).toEqual(outcome(() => eager.set(op.i, op.value)));
            if (op.i >= 0 && op.i < lazy.size) current.add(op.i);
          } else if (op.op === 'grow') {
            const before = lazy.size;
            const old = lazy.grow(op.delta, op.init);
            expect(old).toBe(eager.grow(op.delta, op.init));
            expect(old).toBe(maximum !== null && before + op.delta > maximum ? -1 : before);
            if (old !== -1) for (let i = old; i < old + op.delta; i++) current.add(i);
          } else {
            lazy.reset();
            eager.reset();
            current.clear();
          }
          expect(calls.length - callsBefore).toBeLessThanOrEqual(1);
          expect(lazy.size).toBe(eager.size);
          expect(lazy.materializedCount).toBe(current.size);
        }
        // Finally every entry reads the same in both.
        const every = (t: { get(i: number): unknown; size: number }) => Array.from({ length: t.size }, (_, i) => t.get(i));
        expect(every(lazy)).toEqual(every(eager));
      }),
      { numRuns: 1000 },
    );
  });

  it('grows to its maximum and no further, and reset returns it to its initial size', () => {
    const table = new LazyFuncTable(4, [{ offset: 1, funcIndices: [7, 8] }], (f) => f * 10, 6);
    expect(table.grow(2, 99)).toBe(4);
    expect(table.grow(1)).toBe(-1);
    expect(table.size).toBe(6);
    expect(table.get(5)).toBe(99);
    table.reset();
    expect(table.size).toBe(4);
    expect(outcome(() => table.get(5))).toEqual({ threw: 'INVALID_ARGUMENT' });
    expect([0, 1, 2, 3].map((i) => table.get(i))).toEqual([null, 70, 80, null]);
    expect(table.grow(2)).toBe(4);
    expect(table.get(4)).toBeNull();
  });

  it('keeps a materialised entry: two reads before a reset return the same object', () => {
    const table = new LazyFuncTable(3, [{ offset: 0, funcIndices: [1, 2, 3] }], (f) => ({ f }));
    const first = table.get(1);
    expect(table.get(1)).toBe(first);
    table.reset();
    const again = table.get(1);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});
