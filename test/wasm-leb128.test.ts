/**
 * LEB128: the reader decodes every encoding the binary format allows
 * (including padded ones up to the size limit), rejects overlong and
 * overflowing ones, and the writer's u32 encoding is canonical and round-trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CowpoolError } from '../src/errors.js';
import { ByteReader } from '../src/wasm/byte-reader.js';
import { encodeU32 } from '../src/wasm/byte-writer.js';

/** Reference encoder: signed or unsigned LEB128 of `value`, padded with continuation bytes to `length` when longer. */
function encode(value: bigint, signed: boolean, length = 0): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    const done = signed ? (v === 0n && (low & 0x40) === 0) || (v === -1n && (low & 0x40) !== 0) : v === 0n;
    if (done) {
      out.push(low);
      break;
    }
    out.push(low | 0x80);
  }
  // Padding: repeat the sign (or zero) bits in extra bytes, as a non-canonical encoder may.
  while (out.length < length) {
    out[out.length - 1]! |= 0x80;
    out.push(signed && value < 0n ? 0x7f : 0x00);
  }
  return out;
}

function reader(bytes: number[]): ByteReader {
  const u8 = Uint8Array.from(bytes);
  return new ByteReader(u8, 0, u8.length, 'test range');
}

function rejects(read: () => unknown): CowpoolError {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(CowpoolError);
    expect((e as CowpoolError).code).toBe('INVALID_WASM');
    return e as CowpoolError;
  }
  throw new Error('expected INVALID_WASM');
}

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const s32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

describe('u32', () => {
  it('encodeU32 is canonical and round-trips', () => {
    fc.assert(
      fc.property(u32, (v) => {
        const bytes = Array.from(encodeU32(v));
        expect(bytes).toEqual(encode(BigInt(v), false));
        expect(bytes.length).toBe(Math.max(1, Math.ceil(Math.log2(v + 1) / 7)));
        const r = reader(bytes);
        expect(r.u32('value')).toBe(v);
        expect(r.atEnd()).toBe(true);
      }),
    );
  });

  it('accepts padded encodings up to 5 bytes', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 1, max: 5 }), (v, length) => {
        const bytes = encode(BigInt(v), false, length);
        fc.pre(bytes.length <= 5);
        expect(reader(bytes).u32('value')).toBe(v);
      }),
    );
  });

  it('rejects 6-byte encodings and 5-byte ones with bits above bit 31', () => {
    fc.assert(
      fc.property(u32, (v) => {
        expect(rejects(() => reader(encode(BigInt(v), false, 6)).u32('value')).message).toMatch(/longer than 5 bytes/);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), u32, (high, v) => {
        const bytes = encode(BigInt(v), false, 5);
        bytes[4] = (bytes[4]! & 0x0f) | (high << 4);
        expect(rejects(() => reader(bytes).u32('value')).message).toMatch(/overflow/);
      }),
    );
  });

  it('names the first byte of the integer and stops at the end of its range', () => {
    const e = rejects(() => reader([0x80, 0x80]).u32('value'));
    expect(e.offset).toBe(2);
    expect(e.message).toMatch(/unexpected end of the test range/);
  });
});

describe('signed', () => {
  it('s32 round-trips, padded up to 5 bytes, and rejects bad sign extension', () => {
    fc.assert(
      fc.property(s32, fc.integer({ min: 1, max: 5 }), (v, length) => {
        const bytes = encode(BigInt(v), true, length);
        fc.pre(bytes.length <= 5);
        expect(reader(bytes).s32('value')).toBe(v);
      }),
    );
    // 0x7fffffff with its 5th byte claiming negative high bits.
    expect(rejects(() => reader([0xff, 0xff, 0xff, 0xff, 0x77]).s32('value')).message).toMatch(/overflow/);
    expect(rejects(() => reader(encode(-1n, true, 6)).s32('value')).message).toMatch(/longer than 5 bytes/);
  });

  it('s33 covers every u32 type index and the negative abstract types', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }), (v) => {
        expect(reader(encode(BigInt(v), true)).s33('value')).toBe(v);
      }),
    );
  });

  it('s64 and u64 round-trip through bigint, up to 10 bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        expect(reader(encode(v, true)).s64('value')).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        expect(reader(encode(v, false)).u64('value')).toBe(v);
      }),
    );
    expect(rejects(() => reader(encode(1n, false, 11)).u64('value')).message).toMatch(/longer than 10 bytes/);
    expect(rejects(() => reader([...encode(0n, false, 9).map((b) => b | 0x80), 0x02]).u64('value')).message).toMatch(/overflow/);
  });
});
