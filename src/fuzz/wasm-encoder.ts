/**
 * The few pieces of the WebAssembly binary format the fuzzer emits: LEB128
 * integers, floats, names, vectors and sections, plus the opcodes its
 * generated functions use. Deliberately independent of src/wasm (the code
 * under test) so a bug there cannot hide itself in the fuzzer's modules.
 *
 * Values are plain `number[]` byte lists: generated modules are small, and
 * lists concatenate without bookkeeping.
 */
import { CowpoolError } from '../errors.js';

export type Bytes = number[];

/** Unsigned LEB128 of a u32. */
export function u32(value: number): Bytes {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new CowpoolError('INVALID_ARGUMENT', `wasm-encoder: u32 out of range (${value})`);
  }
  const out: Bytes = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of an i32 (any integer in [-2^31, 2^32) is taken modulo 2^32). */
export function s32(value: number): Bytes {
  return s64(BigInt.asIntN(32, BigInt(value)));
}

/** Signed LEB128 of an i64. */
export function s64(value: bigint): Bytes {
  let v = BigInt.asIntN(64, value);
  const out: Bytes = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const signBitClear = (b & 0x40) === 0;
    if ((v === 0n && signBitClear) || (v === -1n && !signBitClear)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function f32(value: number): Bytes {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return [...new Uint8Array(view.buffer)];
}

export function f64(value: number): Bytes {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return [...new Uint8Array(view.buffer)];
}

export function name(text: string): Bytes {
  const utf8 = [...new TextEncoder().encode(text)];
  return [...u32(utf8.length), ...utf8];
}

/** A vector: count, then the items. */
export function vec(items: readonly Bytes[]): Bytes {
  return [...u32(items.length), ...items.flat()];
}

/** A byte vector (data segment payloads). */
export function byteVec(bytes: Uint8Array): Bytes {
  return [...u32(bytes.length), ...bytes];
}

export function section(id: number, payload: Bytes): Bytes {
  return [id, ...u32(payload.length), ...payload];
}

/** The header plus sections, in the order given (callers keep the binary-format order). */
export function module(sections: readonly Bytes[]): Uint8Array {
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
}

export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12,
} as const;

export const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, funcref: 0x70, externref: 0x6f } as const;

export const EXPORT_KIND = { function: 0, table: 1, memory: 2, global: 3 } as const;

/** Opcodes the generated functions use (single byte unless an array). */
export const OP = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d,
  call: 0x10, callIndirect: 0x11, drop: 0x1a,
  localGet: 0x20, localSet: 0x21, globalGet: 0x23, globalSet: 0x24, tableGet: 0x25, tableSet: 0x26,
  i32Load: 0x28, i64Load: 0x29, i32Load8U: 0x2d, i32Store: 0x36, i64Store: 0x37, i32Store8: 0x3a, i32Store16: 0x3b,
  memorySize: 0x3f, memoryGrow: 0x40,
  i32Const: 0x41, i64Const: 0x42, f32Const: 0x43, f64Const: 0x44,
  i32GeU: 0x4f, i32Add: 0x6a,
  refNull: 0xd0, refFunc: 0xd2,
  /** Block type "no result". */
  void: 0x40,
  prefixFc: 0xfc,
  memoryInit: 8, dataDrop: 9, memoryCopy: 10, memoryFill: 11, tableGrow: 15, tableSize: 16,
} as const;

/** A constant expression `i32.const value; end`. */
export function i32ConstExpr(value: number): Bytes {
  return [OP.i32Const, ...s32(value), OP.end];
}

/** `memarg` with the natural alignment exponent and offset 0. */
export function memarg(alignLog2: number): Bytes {
  return [...u32(alignLog2), ...u32(0)];
}

/** A function type. */
export function funcType(params: readonly number[], results: readonly number[]): Bytes {
  return [0x60, ...u32(params.length), ...params, ...u32(results.length), ...results];
}

/** Limits: minimum, and maximum when not null. */
export function limits(min: number, max: number | null): Bytes {
  return max === null ? [0x00, ...u32(min)] : [0x01, ...u32(min), ...u32(max)];
}

/** A function body: locals (one group per entry) and the instructions; `end` is appended. */
export function body(locals: readonly (readonly [count: number, type: number])[], code: Bytes): Bytes {
  const inner = [...vec(locals.map(([count, type]) => [...u32(count), type])), ...code, OP.end];
  return [...u32(inner.length), ...inner];
}
