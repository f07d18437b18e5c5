/** `SlotPool`, the raw slot pool's old name, still reaches it from the package entry. */
import { describe, expect, it } from 'vitest';
import { RawSlotPool, SlotPool } from '../src/index.js';

describe('RawSlotPool', () => {
  it('is still exported as SlotPool (deprecated)', () => {
    expect(SlotPool).toBe(RawSlotPool);
    const pool = new SlotPool({ limits: { maxSlots: 1 } });
    expect(pool).toBeInstanceOf(RawSlotPool);
    pool.close();
  });
});
