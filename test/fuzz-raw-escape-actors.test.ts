import { describe, expect, it } from 'vitest';
import { generateRawCase, runRawCase, type RawCase } from '../src/fuzz/raw-slot-differential.js';
import { RAW_ESCAPE_KINDS, randomRawEscapes } from '../src/fuzz/raw-slot-escapes.js';

describe('raw-slot fuzz: escape actors', () => {
  it('are a pure function of the seed and leave the rest of a case unchanged', () => {
    expect(randomRawEscapes(7, 12)).toEqual(randomRawEscapes(7, 12));
    const c = generateRawCase(7);
    const escapes = c.tenants[0]!.escapes;
    expect(escapes).toEqual(randomRawEscapes(7, c.tenants.length)[0]);
    const kinds = new Set(Array.from({ length: 200 }, (_, s) => randomRawEscapes(s, 10).flat().map((a) => a.kind)).flat());
    expect([...kinds].sort()).toEqual([...RAW_ESCAPE_KINDS].sort());
  });

  it('every kind, several per tenant and held across tenants, finds no leak on a sound pool', () => {
    const c: RawCase = {
      seed: 1,
      images: [new Uint8Array(9000).map((_, i) => (i * 31) & 0xff), new Uint8Array(100).fill(3)],
      maxSlots: 2,
      tenants: Array.from({ length: 12 }, (_, t) => ({
        image: t % 3 === 2 ? -1 : t % 2,
        extraPages: 1 + (t % 3),
        growRoomPages: 2,
        actions: [{ kind: 'write' as const, offset: t * 97, length: 5000, value: 10 + t }, { kind: 'grow' as const, pages: t % 2 }],
        keepBuffer: t % 4 === 0,
        faultOnAcquire: null,
        faultOnRelease: null,
        escapes: [
          { kind: RAW_ESCAPE_KINDS[t % RAW_ESCAPE_KINDS.length]!, offset: 11 * t, value: 200 + t, keepFor: 3 },
          { kind: RAW_ESCAPE_KINDS[(t + 3) % RAW_ESCAPE_KINDS.length]!, offset: 13 * t, value: 100 + t, keepFor: 1 },
        ],
      })),
    };
    for (const mode of ['madvise', 'keep-resident'] as const) {
      const run = runRawCase(c, mode);
      expect(run.failure?.message ?? null).toBeNull();
      expect(run.tenants).toBe(12);
    }
  });
});
