import { describe, expect, it } from 'vitest';
import { isCowpoolError } from '../src/errors.js';
import { IndexAllocator } from '../src/policy/index-allocator.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    return isCowpoolError(e) ? e.code : 'not a CowpoolError';
  }
  return undefined;
}

describe('IndexAllocator refuses misuse', () => {
  const limits = { maxSlots: 4, maxUnusedWarmSlots: 2, maxSlotsPerKey: 2 };

  it('rejects limits that are not whole numbers in range', () => {
    expect(codeOf(() => new IndexAllocator({ ...limits, maxSlots: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new IndexAllocator({ ...limits, maxSlots: 2.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new IndexAllocator({ ...limits, maxUnusedWarmSlots: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new IndexAllocator({ ...limits, maxSlotsPerKey: 0 }))).toBe('INVALID_ARGUMENT');
  });

  it('refuses to free a slot that is not in use, and leaves its state alone', () => {
    const allocator = new IndexAllocator(limits);
    const got = allocator.alloc('a');
    expect(got?.slot).toBe(0);
    allocator.free(0, 'a');
    expect(codeOf(() => allocator.free(0, 'a'))).toBe('SLOT_STATE');
    expect(codeOf(() => allocator.free(3, null))).toBe('SLOT_STATE');
    expect(allocator.stateOf(0)).toEqual({ state: 'warm', key: 'a' });
    allocator.verify();
  });

  it('rejects slot numbers outside the pool', () => {
    const allocator = new IndexAllocator(limits);
    for (const slot of [-1, 4, 1.5, Number.NaN]) {
      expect(codeOf(() => allocator.free(slot, null))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => allocator.retire(slot))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => allocator.stateOf(slot))).toBe('INVALID_ARGUMENT');
    }
  });

  it('limits slots per key but not slots for modules without an image', () => {
    const allocator = new IndexAllocator(limits);
    expect(allocator.alloc('a')).not.toBeNull();
    expect(allocator.alloc('a')).not.toBeNull();
    expect(allocator.alloc('a')).toBeNull();
    expect(allocator.exhaustedReason('a')).toBe('key-limit');
    expect(allocator.alloc(null)).not.toBeNull();
    expect(allocator.alloc(null)).not.toBeNull();
    expect(allocator.exhaustedReason(null)).toBe('all-slots-used');
  });

  it('a retired slot comes back cold, whatever key it is freed with', () => {
    const allocator = new IndexAllocator(limits);
    const got = allocator.alloc('a');
    allocator.retire(got?.slot ?? -1);
    expect(allocator.stateOf(got?.slot ?? -1)).toEqual({ state: 'used', key: 'a', retired: true });
    allocator.free(got?.slot ?? -1, 'a');
    expect(allocator.stateOf(got?.slot ?? -1)).toEqual({ state: 'cold' });
    expect(allocator.warmSlotsOf('a')).toEqual([]);
  });
});
