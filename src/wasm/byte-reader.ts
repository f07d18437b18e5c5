/**
 * An offset-tracking cursor over one byte range of a wasm binary.
 *
 * ```
 *   bytes   [0 ..................................................... bytes.length)
 *   range            [start ............ pos ................ end)
 *                                         ^ next byte to read
 * ```
 * Invariant: `0 <= start <= pos <= end <= bytes.length`.
 * Invariant: `pos` only moves forward, and never past `end`: a read that would
 *            cross `end` throws before moving.
 * Invariant: every error is INVALID_WASM with an absolute offset into `bytes`
 *            (so `offset <= bytes.length`, even for a truncated file).
 *
 * Nothing here allocates in proportion to a number read from the input: counts
 * are checked against the bytes that remain before anyone loops over them, and
 * byte strings are views (`subarray`), never copies.
 */
import { malformed } from './malformed.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** What the range is, for messages: "data section", "module header", ... */
  readonly scope: string;
  #pos: number;

  constructor(bytes: Uint8Array, start: number, end: number, scope: string) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= bytes.length)) {
      throw new RangeError(`ByteReader range [${start}, ${end}) is not inside a ${bytes.length}-byte buffer`);
    }
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.scope = scope;
    this.#pos = start;
  }

  /** Absolute offset of the next byte. */
  get pos(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.end - this.#pos;
  }

  atEnd(): boolean {
    return this.#pos === this.end;
  }

  /** The error for `field` at `offset` (default: the next byte). */
  error(field: string, problem: string, offset: number = this.#pos): Error {
    return malformed(offset, field, problem);
  }

  /** Require that the whole range was consumed: leftover bytes mean the sizes disagree. */
  expectEnd(field: string): void {
    if (this.#pos !== this.end) {
      throw this.error(field, `${this.end - this.#pos} unread byte(s) remain at the end of the ${this.scope}; its declared size does not match its contents`);
    }
  }

  #truncated(field: string, offset: number): Error {
    return this.error(field, `unexpected end of the ${this.scope} (it ends at byte ${this.end})`, offset);
  }

  u8(field: string): number {
    if (this.#pos >= this.end) throw this.#truncated(field, this.#pos);
    return this.bytes[this.#pos++]!;
  }

  /** The next byte without consuming it, or undefined at the end of the range. */
  peekU8(): number | undefined {
    return this.#pos < this.end ? this.bytes[this.#pos] : undefined;
  }

  /** A view (not a copy) of the next `length` bytes. */
  view(length: number, field: string): Uint8Array {
    const at = this.#pos;
    if (length > this.end - at) {
      throw this.error(field, `${length} byte(s) are declared but only ${this.end - at} remain in the ${this.scope}`, at);
    }
    this.#pos = at + length;
    return this.bytes.subarray(at, at + length);
  }

  skip(length: number, field: string): void {
    this.view(length, field);
  }

  /**
   * A reader over the next `length` bytes (a section, a function body, ...);
   * this reader moves past them.
   */
  sub(length: number, field: string, scope: string): ByteReader {
    const at = this.#pos;
    this.view(length, field);
    return new ByteReader(this.bytes, at, at + length, scope);
  }

  /**
   * Unsigned or signed LEB128 of at most `maxBytes` bytes whose value fits in
   * 35 bits, as a double (exact). `topMask` selects the bits of the last
   * permitted byte that lie beyond the integer's width: they must be zero
   * (unsigned) or copies of the sign bit (signed).
   */
  #leb(field: string, kind: string, maxBytes: number, signed: boolean, topMask: number): number {
    const first = this.#pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.#pos >= this.end) throw this.#truncated(field, this.#pos);
      const b = this.bytes[this.#pos++]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (i === maxBytes - 1) {
        if (b & 0x80) throw this.error(field, `LEB128 ${kind} is longer than ${maxBytes} bytes`, first);
        const top = b & topMask;
        if (signed ? top !== 0 && top !== topMask : top !== 0) {
          throw this.error(field, `LEB128 ${kind} has bits set beyond its width (integer overflow)`, first);
        }
      }
      if ((b & 0x80) === 0) {
        return signed && (b & 0x40) !== 0 ? value - scale : value;
      }
    }
    // Unreachable: the last iteration either returns or throws; this keeps the type checker honest.
    throw this.error(field, `LEB128 ${kind} is longer than ${maxBytes} bytes`, first);
  }

  /** LEB128 for 64-bit integers, exact, as a bigint. */
  #leb64(field: string, kind: string, signed: boolean): bigint {
    const first = this.#pos;
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.end) throw this.#truncated(field, this.#pos);
      const b = this.bytes[this.#pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (i === 9) {
        if (b & 0x80) throw this.error(field, `LEB128 ${kind} is longer than 10 bytes`, first);
        const topMask = signed ? 0x7f : 0x7e;
        const top = b & topMask;
        if (signed ? top !== 0 && top !== topMask : top !== 0) {
          throw this.error(field, `LEB128 ${kind} has bits set beyond its width (integer overflow)`, first);
        }
      }
      if ((b & 0x80) === 0) {
        return signed && (b & 0x40) !== 0 ? BigInt.asIntN(64, value - (1n << shift)) : BigInt.asUintN(64, value);
      }
    }
    // Unreachable: the last iteration either returns or throws; this keeps the type checker honest.
    throw this.error(field, `LEB128 ${kind} is longer than 10 bytes`, first);
  }

  u32(field: string): number {
    return this.#leb(field, 'u32', 5, false, 0x70);
  }

  s32(field: string): number {
    return this.#leb(field, 's32', 5, true, 0x78);
  }

  /** Heap types and block types are signed 33-bit. */
  s33(field: string): number {
    return this.#leb(field, 's33', 5, true, 0x70);
  }

  u64(field: string): bigint {
    return this.#leb64(field, 'u64', false);
  }

  s64(field: string): bigint {
    return this.#leb64(field, 's64', true);
  }

  /**
   * A vector length: a u32 that must not promise more entries than the
   * remaining bytes can hold (each entry takes at least `minEntryBytes`).
   * This is what keeps a declared count of 0xFFFFFFFF from driving a loop.
   */
  count(field: string, minEntryBytes = 1): number {
    const at = this.#pos;
    const n = this.u32(field);
    if (n * minEntryBytes > this.end - this.#pos) {
      throw this.error(
        field,
        `declares ${n} entries (at least ${n * minEntryBytes} bytes) but only ${this.end - this.#pos} byte(s) remain in the ${this.scope}`,
        at,
      );
    }
    return n;
  }

  /** A length-prefixed UTF-8 string. */
  name(field: string): string {
    const at = this.#pos;
    const length = this.u32(field);
    const raw = this.view(length, field);
    try {
      return utf8.decode(raw);
    } catch {
      throw this.error(field, 'name is not valid UTF-8', at);
    }
  }
}
