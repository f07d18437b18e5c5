/**
 * The one way the wasm parser reports a malformed binary: an INVALID_WASM
 * CowpoolError carrying the absolute byte offset, with a message that names
 * the field at fault and what to do about it.
 */
import { CowpoolError } from '../errors.js';

/** What a person can do about a binary that does not parse. */
const FIX =
  'the bytes are not a complete WebAssembly module binary: pass the exact contents of a .wasm file ' +
  '(not truncated, not text format, not base64), or rebuild it with your toolchain';

/**
 * Build the INVALID_WASM error for `field` at byte `offset` of the module.
 * `problem` says what was wrong with the bytes found there.
 */
export function malformed(offset: number, field: string, problem: string): CowpoolError {
  return new CowpoolError(
    'INVALID_WASM',
    `malformed wasm at byte ${offset} (${field}): ${problem}; ${FIX}`,
    { offset },
  );
}
