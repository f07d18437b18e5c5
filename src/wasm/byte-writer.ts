/**
 * An append-only byte buffer with the wasm encodings the rewrite needs.
 *
 * ```
 *   buf  [0 ........ length) [length ........ buf.length)
 *         written bytes       spare capacity (zeros)
 * ```
 * Invariant: `0 <= length <= buf.length`; bytes past `length` are never read.
 * Invariant: `finish()` returns a copy of exactly `[0, length)`; the writer
 *            may keep being used afterwards.
 */

/** The LEB128 encoding of an unsigned 32-bit integer (1 to 5 bytes, canonical). */
export function encodeU32(value: number): Uint8Array {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff)) {
    throw new RangeError(`encodeU32: ${value} is not an unsigned 32-bit integer`);
  }
  const out: number[] = [];
  let v = value;
  do {
    // Division, not >>>, so values above 2^31 stay positive.
    const low = v % 128;
    v = Math.floor(v / 128);
    out.push(v === 0 ? low : low | 0x80);
  } while (v !== 0);
  return Uint8Array.from(out);
}

/** The signed LEB128 encoding of a 64-bit integer (canonical: the fewest bytes that sign-extend back to it). */
export function encodeS64(value: bigint): Uint8Array {
  if (value < -(1n << 63n) || value >= 1n << 63n) {
    throw new RangeError(`encodeS64: ${value} is not a signed 64-bit integer`);
  }
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = Number(v & 0x7fn);
    v >>= 7n; // arithmetic shift: BigInt keeps the sign
    const done = (v === 0n && (low & 0x40) === 0) || (v === -1n && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

/** The signed LEB128 encoding of a 32-bit integer; an unsigned value above 2^31 is taken as its two's-complement bits. */
export function encodeS32(value: number): Uint8Array {
  if (!(Number.isInteger(value) && value >= -0x8000_0000 && value <= 0xffff_ffff)) {
    throw new RangeError(`encodeS32: ${value} is not a 32-bit integer`);
  }
  return encodeS64(BigInt(value | 0));
}

const utf8 = new TextEncoder();

export class ByteWriter {
  #buf: Uint8Array;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  get length(): number {
    return this.#length;
  }

  #reserve(extra: number): void {
    const need = this.#length + extra;
    if (need <= this.#buf.length) return;
    let capacity = this.#buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
  }

  u8(value: number): this {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xff)) {
      throw new RangeError(`ByteWriter.u8: ${value} is not a byte`);
    }
    this.#reserve(1);
    this.#buf[this.#length++] = value;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.#reserve(data.length);
    this.#buf.set(data, this.#length);
    this.#length += data.length;
    return this;
  }

  u32(value: number): this {
    return this.bytes(encodeU32(value));
  }

  s32(value: number): this {
    return this.bytes(encodeS32(value));
  }

  s64(value: bigint): this {
    return this.bytes(encodeS64(value));
  }

  /** A length-prefixed UTF-8 name. */
  name(text: string): this {
    const encoded = utf8.encode(text);
    return this.u32(encoded.length).bytes(encoded);
  }

  /** A section: id byte, u32 size of `content`, then `content`. */
  section(id: number, content: Uint8Array): this {
    return this.u8(id).u32(content.length).bytes(content);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#length);
  }
}
