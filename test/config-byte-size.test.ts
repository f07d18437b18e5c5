import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteSize, formatByteSize, GiB, KiB, MiB, parseByteSize, TiB } from '../src/config/byte-size.js';

describe('byte sizes', () => {
  it('reads numbers with and without binary units', () => {
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('64KiB')).toBe(64 * KiB);
    expect(parseByteSize('64MiB')).toBe(64 * MiB);
    expect(parseByteSize('2GiB')).toBe(2 * GiB);
    expect(parseByteSize('1TiB')).toBe(TiB);
    expect(parseByteSize('1.5GiB')).toBe(1.5 * GiB);
    expect(parseByteSize('12 B')).toBe(12);
  });

  it('refuses decimal units, wrong case, fractions of a byte and junk', () => {
    for (const text of ['64MB', '64mib', '64 MiB ', '1.3KiB', '0.5B', '-1', 'MiB', '', '1e3', '0x10']) {
      expect(parseByteSize(text), text).toBeUndefined();
    }
  });

  it('formatByteSize and parseByteSize round-trip every whole number of bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.constantFrom(1, KiB, MiB, GiB), (n, scale) => {
        const bytes = Math.min(n * scale, Number.MAX_SAFE_INTEGER - (Number.MAX_SAFE_INTEGER % scale));
        const text = formatByteSize(bytes).replace(/ bytes$/, '');
        expect(parseByteSize(text)).toBe(bytes);
      }),
    );
  });

  it('a byteSize field gives the same verdict for a number and for its string forms', () => {
    const field = byteSize({ min: 64 * KiB, max: 4 * GiB, multipleOf: 64 * KiB });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 * GiB }), (bytes) => {
        const valid = bytes >= 64 * KiB && bytes <= 4 * GiB && bytes % (64 * KiB) === 0;
        for (const input of [bytes, String(bytes), formatByteSize(bytes).replace(/ bytes$/, '')]) {
          const result = field.safeParse(input);
          expect(result.success, JSON.stringify(input)).toBe(valid);
          if (result.success) expect(result.data).toBe(bytes);
        }
      }),
    );
  });
});
