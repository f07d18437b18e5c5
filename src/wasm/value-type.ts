/**
 * Reading value, reference and heap types. Types are reported as their text
 * format spelling (`i32`, `funcref`, `(ref null 3)`) because callers only
 * display them or compare them with a few known names; the encodings of the
 * reference-types, function-references, GC and exception proposals are
 * accepted so modules using them pass through untouched.
 */
import type { ByteReader } from './byte-reader.js';

const NUMERIC: Record<number, string> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
};

/** Abstract heap types by their one-byte encoding, and the shorthand reference type each one names. */
const ABSTRACT_HEAP: Record<number, { heap: string; ref: string }> = {
  0x70: { heap: 'func', ref: 'funcref' },
  0x6f: { heap: 'extern', ref: 'externref' },
  0x6e: { heap: 'any', ref: 'anyref' },
  0x6d: { heap: 'eq', ref: 'eqref' },
  0x6c: { heap: 'i31', ref: 'i31ref' },
  0x6b: { heap: 'struct', ref: 'structref' },
  0x6a: { heap: 'array', ref: 'arrayref' },
  0x69: { heap: 'exn', ref: 'exnref' },
  0x71: { heap: 'none', ref: 'nullref' },
  0x72: { heap: 'noextern', ref: 'nullexternref' },
  0x73: { heap: 'nofunc', ref: 'nullfuncref' },
  0x74: { heap: 'noexn', ref: 'nullexnref' },
};

const REF_NULL = 0x63;
const REF = 0x64;

/** A heap type: an abstract one by name, or a type index as its decimal string. */
export function readHeapType(r: ByteReader, field: string): string {
  const at = r.pos;
  const v = r.s33(field);
  if (v >= 0) return String(v);
  // A negative one-byte s33 is the abstract type's byte minus 0x80.
  const abstract = ABSTRACT_HEAP[v + 0x80];
  if (abstract === undefined) throw r.error(field, `unknown heap type (s33 value ${v})`, at);
  return abstract.heap;
}

/** A reference type (table element types, element segment types, ref.null). */
export function readRefType(r: ByteReader, field: string): string {
  const at = r.pos;
  const b = r.u8(field);
  const abstract = ABSTRACT_HEAP[b];
  if (abstract !== undefined) return abstract.ref;
  if (b === REF_NULL || b === REF) {
    const heap = readHeapType(r, field);
    return b === REF_NULL ? `(ref null ${heap})` : `(ref ${heap})`;
  }
  throw r.error(field, `0x${b.toString(16).padStart(2, '0')} is not a reference type`, at);
}

/** A value type: numeric, vector or reference. */
export function readValType(r: ByteReader, field: string): string {
  const at = r.pos;
  const b = r.peekU8();
  if (b === undefined) return String(r.u8(field)); // throws: the range ended
  const numeric = NUMERIC[b];
  if (numeric !== undefined) {
    r.u8(field);
    return numeric;
  }
  if (ABSTRACT_HEAP[b] !== undefined || b === REF_NULL || b === REF) return readRefType(r, field);
  throw r.error(field, `0x${b.toString(16).padStart(2, '0')} is not a value type`, at);
}

/** A struct/array field's storage type: a value type or a packed i8/i16. */
export function readStorageType(r: ByteReader, field: string): string {
  const b = r.peekU8();
  if (b === 0x78) {
    r.u8(field);
    return 'i8';
  }
  if (b === 0x77) {
    r.u8(field);
    return 'i16';
  }
  return readValType(r, field);
}
