import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexAllocator, type Allocation, type AllocatorLimits } from '../src/policy/index-allocator.js';

/**
 * The policy written the obvious way: per-slot arrays, linear scans and a
 * logical clock. Slow, but easy to read against the documented rules.
 */
class ReferenceModel {
  readonly state: ('cold' | 'warm' | 'used')[];
  readonly key: (string | null)[];
  readonly retired: boolean[];
  readonly freedAt: number[];
  /** Cold slots; the last element is taken next. Never-used slots start in index order. */
  readonly cold: number[];
  clock = 0;

  constructor(readonly limits: AllocatorLimits) {
    const n = limits.maxSlots;
    this.state = new Array(n).fill('cold');
    this.key = new Array(n).fill(null);
    this.retired = new Array(n).fill(false);
    this.freedAt = new Array(n).fill(0);
    this.cold = Array.from({ length: n }, (_, i) => n - 1 - i);
  }

  slotsIn(state: 'cold' | 'warm' | 'used'): number[] {
    return this.state.flatMap((s, i) => (s === state ? [i] : []));
  }

  usedBy(key: string): number {
    return this.slotsIn('used').filter((s) => this.key[s] === key).length;
  }

  alloc(key: string | null): Allocation | null {
    const { maxSlots, maxSlotsPerKey, maxUnusedWarmSlots } = this.limits;
    if (this.slotsIn('used').length === maxSlots) return null;
    if (key !== null && this.usedBy(key) >= maxSlotsPerKey) return null;
    const warm = this.slotsIn('warm');
    const byAge = (a: number, b: number) => (this.freedAt[a] ?? 0) - (this.freedAt[b] ?? 0);
    const mine = warm.filter((s) => this.key[s] === key).sort(byAge);
    let result: Allocation;
    if (key !== null && mine.length > 0) {
      result = { slot: mine[mine.length - 1] ?? -1, kind: 'affine', previousKey: key };
    } else if (this.cold.length > 0 && warm.length < maxUnusedWarmSlots) {
      result = { slot: this.cold.pop() ?? -1, kind: 'cold', previousKey: null };
    } else if (warm.length > 0) {
      const oldest = warm.sort(byAge)[0] ?? -1;
      result = { slot: oldest, kind: 'evicted', previousKey: this.key[oldest] ?? null };
    } else {
      result = { slot: this.cold.pop() ?? -1, kind: 'cold', previousKey: null };
    }
    this.state[result.slot] = 'used';
    this.key[result.slot] = key;
    return result;
  }

  free(slot: number, key: string | null): void {
    const toCold = key === null || this.retired[slot] === true;
    this.retired[slot] = false;
    this.state[slot] = toCold ? 'cold' : 'warm';
    this.key[slot] = toCold ? null : key;
    if (toCold) this.cold.push(slot);
    this.freedAt[slot] = ++this.clock;
  }

  retire(slot: number): void {
    if (this.state[slot] === 'used') this.retired[slot] = true;
    else if (this.state[slot] === 'warm') {
      this.state[slot] = 'cold';
      this.key[slot] = null;
      this.cold.push(slot);
    }
  }
}

const KEYS = ['a', 'b', 'c', 'd', null] as const;

type Op =
  /** `bare`: through allocSlot and lastKind/lastPreviousKey (the pool's path) instead of alloc. */
  | { op: 'alloc'; key: string | null; bare: boolean }
  | { op: 'free'; pick: number; as: 'same' | 'null' | 'other'; other: string }
  | { op: 'retire'; slot: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('alloc' as const), key: fc.constantFrom(...KEYS), bare: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('free' as const),
      pick: fc.nat(),
      as: fc.constantFrom('same' as const, 'same' as const, 'null' as const, 'other' as const),
      other: fc.constantFrom('a', 'b', 'c', 'd'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retire' as const), slot: fc.nat() }) },
);

const limitsArb: fc.Arbitrary<AllocatorLimits> = fc.record({
  maxSlots: fc.integer({ min: 1, max: 12 }),
  maxUnusedWarmSlots: fc.integer({ min: 0, max: 6 }),
  maxSlotsPerKey: fc.integer({ min: 1, max: 12 }),
});

/** allocSlot's answer in alloc's form. */
function allocSlot(allocator: IndexAllocator, key: string | null): Allocation | null {
  const slot = allocator.allocSlot(key);
  if (slot < 0) return null;
  return { slot, kind: allocator.lastKind, previousKey: allocator.lastPreviousKey } as Allocation;
}

describe('IndexAllocator against a reference model', () => {
  it('makes the same choice as the model for every operation and keeps its invariants', () => {
    fc.assert(
      fc.property(limitsArb, fc.array(opArb, { maxLength: 200 }), (limits, ops) => {
        const allocator = new IndexAllocator(limits);
        const model = new ReferenceModel(limits);
        for (const op of ops) {
          if (op.op === 'alloc') {
            const usedBefore = new Set(model.slotsIn('used'));
            const hadAffine = op.key !== null && model.slotsIn('warm').some((s) => model.key[s] === op.key);
            const got = op.bare ? allocSlot(allocator, op.key) : allocator.alloc(op.key);
            expect(got).toEqual(model.alloc(op.key));
            if (got === null) {
              // Exhausted only when it must be.
              const full = usedBefore.size === limits.maxSlots;
              const atKeyLimit = op.key !== null && model.usedBy(op.key) >= limits.maxSlotsPerKey;
              expect(full || atKeyLimit).toBe(true);
              expect(allocator.exhaustedReason(op.key)).toBe(full ? 'all-slots-used' : 'key-limit');
            } else {
              expect(usedBefore.has(got.slot)).toBe(false);
              if (hadAffine) expect(got.kind).toBe('affine');
            }
          } else if (op.op === 'free') {
            const used = model.slotsIn('used');
            if (used.length === 0) continue;
            const slot = used[op.pick % used.length] ?? 0;
            const key = op.as === 'same' ? (model.key[slot] ?? null) : op.as === 'null' ? null : op.other;
            allocator.free(slot, key);
            model.free(slot, key);
          } else {
            const slot = op.slot % limits.maxSlots;
            allocator.retire(slot);
            model.retire(slot);
          }
          allocator.verify();
          expect(allocator.usedCount).toBe(model.slotsIn('used').length);
          expect(allocator.warmCount).toBe(model.slotsIn('warm').length);
          expect(allocator.coldCount).toBe(model.slotsIn('cold').length);
          expect(allocator.usedCount).toBeLessThanOrEqual(limits.maxSlots);
          for (const key of ['a', 'b', 'c', 'd']) {
            expect(allocator.usedCountOf(key)).toBeLessThanOrEqual(limits.maxSlotsPerKey);
            const warmOfKey = model.slotsIn('warm').filter((s) => model.key[s] === key);
            warmOfKey.sort((x, y) => (model.freedAt[x] ?? 0) - (model.freedAt[y] ?? 0));
            expect(allocator.warmSlotsOf(key)).toEqual(warmOfKey);
          }
          for (let s = 0; s < limits.maxSlots; s++) {
            const view = allocator.stateOf(s);
            expect(view.state).toBe(model.state[s]);
            if (view.state !== 'cold') expect(view.key).toBe(model.key[s]);
            if (view.state === 'used') expect(view.retired).toBe(model.retired[s]);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('hands out every slot exactly once before reporting exhaustion', () => {
    fc.assert(
      fc.property(limitsArb, (limits) => {
        const allocator = new IndexAllocator({ ...limits, maxSlotsPerKey: limits.maxSlots });
        const slots = new Set<number>();
        for (let i = 0; i < limits.maxSlots; i++) {
          const got = allocator.alloc(i % 2 === 0 ? 'a' : null);
          expect(got?.kind).toBe('cold');
          slots.add(got?.slot ?? -1);
        }
        expect([...slots].sort((x, y) => x - y)).toEqual(Array.from({ length: limits.maxSlots }, (_, i) => i));
        expect(allocator.alloc('b')).toBeNull();
        expect(allocator.exhaustedReason('b')).toBe('all-slots-used');
      }),
    );
  });
});
