import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { RawSlotPool } from '../src/pool/raw-slot-pool.js';

const PAGE = 4096;
const GUARD = 64 * 1024;
const MAX = 1 << 20;
const pool = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: MAX, guardBytes: GUARD } });
afterAll(() => pool.close());

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
}

function mappings(): Mapping[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [range, perms] = line.split(/\s+/) as [string, string];
      const [start, end] = range.split('-').map((h) => BigInt(`0x${h}`)) as [bigint, bigint];
      return { start, end, perms };
    });
}

/** The permissions covering [from, to): every mapping overlapping it. */
function coverage(from: bigint, to: bigint): Mapping[] {
  return mappings().filter((m) => m.start < to && m.end > from);
}

describe('raw slots: guard regions', () => {
  it('no JS access reaches past the accessible size', () => {
    const lease = pool.acquire(null, { initialBytes: 4 * PAGE });
    try {
      const buffer = lease.buffer;
      const bytes = new Uint8Array(buffer);
      expect(bytes.length).toBe(4 * PAGE);
      expect(bytes[4 * PAGE]).toBeUndefined();
      bytes[4 * PAGE] = 1; // silently ignored by typed-array bounds
      expect(() => new DataView(buffer).getUint8(4 * PAGE)).toThrow(RangeError);
      expect(() => new Uint8Array(buffer, 4 * PAGE, 1)).toThrow(RangeError);
      expect(() => new Uint8Array(buffer, -1)).toThrow(RangeError);
    } finally {
      lease.release();
    }
  });

  it('PROT_NONE guards of guardBytes sit directly before and after the slot', () => {
    const lease = pool.acquire(null, { initialBytes: 4 * PAGE });
    try {
      const stats = pool.stats();
      expect(stats.slots.total).toBe(1);
      // The slot's base is the ArrayBuffer's address: find the mapping that
      // starts exactly GUARD bytes after a ---p region and spans MAX bytes.
      const all = mappings();
      const candidates = all.filter((m) => m.perms.startsWith('rw') && m.perms[3] === 's');
      let found = false;
      for (const slot of candidates) {
        const before = coverage(slot.start - BigInt(GUARD), slot.start);
        const slotEnd = slot.start + BigInt(MAX);
        const after = coverage(slotEnd, slotEnd + BigInt(GUARD));
        const guarded = (ms: Mapping[]) => ms.length > 0 && ms.every((m) => m.perms === '---p');
        if (guarded(before) && guarded(after)) found = true;
      }
      expect(found, 'a shared rw mapping of the slot flanked by ---p guards').toBe(true);
    } finally {
      lease.release();
    }
  });
});
