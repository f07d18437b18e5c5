/** Page sizes and the limits of a linear memory, with checked conversions. */
import { CowpoolError } from '../errors.js';

/** A WebAssembly page: 64 KiB. */
export const WASM_PAGE = 65536;
/** The most pages a 32-bit memory can have (4 GiB). */
export const MAX_WASM_PAGES = 65536;

export interface MemoryShape {
  readonly initialPages: number;
  /** null: no declared maximum. */
  readonly maximumPages: number | null;
}

export function shapeBytes(shape: MemoryShape): number {
  return shape.initialPages * WASM_PAGE;
}

export function sameShape(a: MemoryShape | null, b: MemoryShape): boolean {
  return a !== null && a.initialPages === b.initialPages && a.maximumPages === b.maximumPages;
}

/** A checked byte count: a non-negative integer that is a multiple of `unit`. */
export function checkedBytes(value: number, field: string, unit: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value % unit !== 0) {
    throw new CowpoolError(
      'INVALID_ARGUMENT',
      `${field} must be a non-negative integer multiple of ${unit} bytes (got ${String(value)})`,
    );
  }
  return value;
}
