/**
 * Bounds-checked access to a guest's linear memory, for host functions.
 *
 * Every read and write takes the memory from the caller's context at the
 * moment of the call (`ctx.memory.buffer`, never a buffer captured earlier:
 * the memory may have grown, and a host made once serves many tenants), and
 * checks `[ptr, ptr + len)` against that buffer's length. A range outside
 * memory throws a GuestFault, which the host function that called the helper
 * turns into an error the guest sees (WASI's EFAULT) with `faultsTo`: never a
 * host exception, never a read of bytes that are not the current tenant's.
 *
 * Pointers and lengths arrive from wasm as signed i32 (JS numbers); they are
 * read as u32 here, so -1 is 4 GiB - 1 and out of bounds rather than negative.
 * Lengths the host computes (count × record size) are checked whole.
 */

/** A guest pointer or length that does not fit the current memory. */
export class GuestFault extends Error {
  override readonly name = 'GuestFault';
  constructor(
    readonly ptr: number,
    readonly length: number,
    readonly memoryBytes: number,
  ) {
    super(`guest range [${ptr}, ${ptr + length}) is outside its ${memoryBytes}-byte memory`);
  }
}

/** Where host functions find the current tenant's memory. */
export interface MemoryContext {
  /** The current tenant's memory; null when no tenant is current. */
  readonly memory: WebAssembly.Memory | null;
}

/**
 * A wasm i32 read as u32 (negative → 2^32 + value). A larger number (a
 * length the host computed, such as count × record size) is kept whole:
 * truncating it to 32 bits would turn an overflow into a small, valid range.
 */
function unsigned(value: number): number {
  return value < 0 ? value >>> 0 : Math.floor(value);
}

/** The current buffer, after checking `[ptr, ptr + length)` lies in it. */
function checked(ctx: MemoryContext, ptr: number, length: number): { buffer: ArrayBuffer; at: number; length: number } {
  const at = unsigned(ptr);
  const n = unsigned(length);
  const memory = ctx.memory;
  if (memory === null) throw new GuestFault(at, n, 0);
  const buffer = memory.buffer as ArrayBuffer;
  if (!(at + n <= buffer.byteLength)) throw new GuestFault(at, n, buffer.byteLength);
  return { buffer, at, length: n };
}

/** A view of guest bytes `[ptr, ptr + length)`, valid until the guest runs again or memory grows. */
export function guestBytes(ctx: MemoryContext, ptr: number, length: number): Uint8Array {
  const { buffer, at, length: n } = checked(ctx, ptr, length);
  return new Uint8Array(buffer, at, n);
}

/** A DataView over `[ptr, ptr + length)` for reading and writing fixed records. */
export function guestView(ctx: MemoryContext, ptr: number, length: number): DataView {
  const { buffer, at, length: n } = checked(ctx, ptr, length);
  return new DataView(buffer, at, n);
}

/** A copy of guest bytes `[ptr, ptr + length)`. */
export function readBytes(ctx: MemoryContext, ptr: number, length: number): Uint8Array {
  return guestBytes(ctx, ptr, length).slice();
}

/** Writes `bytes` at `ptr`; all or nothing. */
export function writeBytes(ctx: MemoryContext, ptr: number, bytes: Uint8Array): void {
  guestBytes(ctx, ptr, bytes.length).set(bytes);
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * The UTF-8 string at `[ptr, ptr + length)`. Invalid sequences become U+FFFD,
 * or, with `strict`, return null (a WASI path must be valid UTF-8: EILSEQ/EINVAL).
 */
export function readString(ctx: MemoryContext, ptr: number, length: number, strict = false): string | null {
  const bytes = guestBytes(ctx, ptr, length);
  if (!strict) return decoder.decode(bytes);
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Writes `text` as UTF-8 at `ptr`, at most `capacity` bytes, and returns the
 * bytes written; a NUL terminator is added when `nul` and it fits.
 */
export function writeString(ctx: MemoryContext, ptr: number, capacity: number, text: string, nul = false): number {
  const encoded = encoder.encode(text);
  const room = capacity >>> 0;
  const body = encoded.length <= room ? encoded : encoded.subarray(0, room);
  const total = body.length + (nul && body.length < room ? 1 : 0);
  const view = guestBytes(ctx, ptr, total);
  view.set(body);
  if (total > body.length) view[body.length] = 0;
  return total;
}

export function readU32(ctx: MemoryContext, ptr: number): number {
  return guestView(ctx, ptr, 4).getUint32(0, true);
}

export function writeU32(ctx: MemoryContext, ptr: number, value: number): void {
  guestView(ctx, ptr, 4).setUint32(0, value >>> 0, true);
}

export function writeU64(ctx: MemoryContext, ptr: number, value: bigint): void {
  guestView(ctx, ptr, 8).setBigUint64(0, BigInt.asUintN(64, value), true);
}

/**
 * Wraps a host function so a GuestFault becomes `onFault` (the value the
 * guest sees); any other error passes through unchanged (a trap, proc_exit).
 */
export function faultsTo<A extends unknown[], R>(fn: (...args: A) => R, onFault: R): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof GuestFault) return onFault;
      throw e;
    }
  };
}
