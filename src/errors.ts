/**
 * The one error class cowpool throws. `code` is stable and meant for programs;
 * `message` is for people and names the field or call at fault and the fix.
 */

/** Every code cowpool can put on an error. Adding one is a minor change; renaming one is breaking. */
export const ERROR_CODES = [
  /** The platform is not Linux, or the kernel lacks memfd_create. */
  'UNSUPPORTED_PLATFORM',
  /** The native addon could not be loaded (not built, wrong ABI). */
  'NATIVE_UNAVAILABLE',
  /** A system call failed; `errno` and `syscall` say which and why. */
  'SYSCALL_FAILED',
  /** An argument has the wrong type or is out of range. */
  'INVALID_ARGUMENT',
  /** A configuration object or file failed validation; `issues` lists every bad field. */
  'INVALID_CONFIG',
  /** The bytes are not a well-formed WebAssembly module; `offset` says where. */
  'INVALID_WASM',
  /** Every slot is in use (or the per-image limit is reached) and the pool may not wait longer. */
  'POOL_EXHAUSTED',
  /** The pool was closed; it serves nothing more. */
  'POOL_CLOSED',
  /** The lease (or raw slot) was released; its exports, memory and buffers are gone. */
  'LEASE_RELEASED',
  /** A give-back (release) was asked for while the instance is running: one of its imports is on the stack. Release after the call returns. */
  'LEASE_IN_CALL',
  /** An import is a `WebAssembly.Suspending` (JSPI); a pooled instance must not suspend while it holds a slot. */
  'SUSPENDING_IMPORT',
  /** The lease belongs to another thread or pool. */
  'WRONG_OWNER',
  /** A grow would pass the slot's maximum. */
  'GROW_LIMIT',
  /** A slot was found in a state the operation does not allow (an internal invariant). */
  'SLOT_STATE',
  /** Instantiation of the module failed (link error, trap in start or data init). */
  'INSTANTIATE_FAILED',
  /**
   * A snapshot (`prepare(bytes, { initialize })`) cannot reproduce the
   * initialized instance exactly; the message names what (an externref value,
   * a changed imported global or table, a shared memory) and where.
   */
  'SNAPSHOT_UNSUPPORTED',
  /** The bench harness was given an unusable input. */
  'BENCH_INPUT',
  /** A run passed its `deadlineMs` (seen at its next host call; see the WASI host's notes). */
  'DEADLINE_EXCEEDED',
  /** A WASI host is in use by another run; make one host per concurrent run. */
  'HOST_BUSY',
] as const;

export type CowpoolErrorCode = (typeof ERROR_CODES)[number];

export interface CowpoolErrorOptions {
  cause?: unknown;
  /** Name of the errno value (`EPERM`, `ENOMEM`, ...) for SYSCALL_FAILED. */
  errno?: string;
  /** The system call that failed. */
  syscall?: string;
  /** Byte offset into a wasm binary for INVALID_WASM. */
  offset?: number;
  /** Per-field problems for INVALID_CONFIG. */
  issues?: readonly ConfigIssue[];
}

export interface ConfigIssue {
  /** Dotted path of the field, e.g. `limits.maxSlots`. */
  path: string;
  message: string;
}

export class CowpoolError extends Error {
  override readonly name = 'CowpoolError';
  readonly code: CowpoolErrorCode;
  readonly errno?: string;
  readonly syscall?: string;
  readonly offset?: number;
  readonly issues?: readonly ConfigIssue[];

  constructor(code: CowpoolErrorCode, message: string, options: CowpoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.syscall !== undefined) this.syscall = options.syscall;
    if (options.offset !== undefined) this.offset = options.offset;
    if (options.issues !== undefined) this.issues = options.issues;
  }
}

/** True when `e` is a CowpoolError, optionally with the given code. */
export function isCowpoolError(e: unknown, code?: CowpoolErrorCode): e is CowpoolError {
  return e instanceof CowpoolError && (code === undefined || e.code === code);
}

/**
 * Convert what the addon threw into a CowpoolError. The addon sets `code`
 * (`SYSCALL_FAILED`, `INVALID_ARGUMENT`, ...), `errno` and `syscall` on a plain
 * Error; anything else is passed through unchanged.
 */
export function fromNative(e: unknown): unknown {
  if (e instanceof CowpoolError || !(e instanceof Error)) return e;
  const raw = e as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  const code = typeof raw.code === 'string' && (ERROR_CODES as readonly string[]).includes(raw.code)
    ? (raw.code as CowpoolErrorCode)
    : undefined;
  if (code === undefined) return e;
  const opts: CowpoolErrorOptions = { cause: e };
  if (typeof raw.errno === 'string') opts.errno = raw.errno;
  if (typeof raw.syscall === 'string') opts.syscall = raw.syscall;
  return new CowpoolError(code, raw.message, opts);
}
