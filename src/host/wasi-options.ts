/**
 * What a WASI run is given, as the caller writes it (`WasiOptions`) and as
 * the host uses it (`ResolvedWasiOptions`). Defaults live here and nowhere
 * else; a bad field is an INVALID_ARGUMENT naming it and the fix.
 */
import { CowpoolError } from '../errors.js';
import { DirectoryTree } from './directory-tree.js';
import type { Preopen } from './fd-table.js';
import { isMemoryDirectory, MemoryTree, type MemoryDirectory } from './memory-tree.js';

/** Bytes of stdout (and, separately, of stderr) kept per run unless a cap is given. */
export const DEFAULT_OUTPUT_CAP = 1 << 20;

export interface WasiOptions {
  /** argv; by convention argv[0] is the program's name. Default: none. */
  args?: readonly string[];
  /** The environment, one `KEY=value` per entry. Default: empty. */
  env?: Readonly<Record<string, string>>;
  /** What the guest reads from fd 0 (a string is UTF-8 encoded). Default: empty. */
  stdin?: Uint8Array | string;
  /**
   * Read-only directories the guest sees at the given paths: a host
   * directory (a path) or an in-memory tree (an object). The guest sees them
   * as fds 3, 4, ... in this order.
   */
  preopens?: Readonly<Record<string, string | MemoryDirectory>>;
  /**
   * Milliseconds the run may take. Checked at every host call (and a clock
   * sleep never passes it): a run past it throws DEADLINE_EXCEEDED at its
   * next call. A loop in wasm that never calls the host is NOT interrupted:
   * on one thread nothing can stop it; run such code in a worker and
   * terminate the worker.
   */
  deadlineMs?: number;
  /** Bytes of stdout kept; more is dropped and reported (`truncated`). Default DEFAULT_OUTPUT_CAP. */
  stdoutCap?: number;
  /** Bytes of stderr kept. Default DEFAULT_OUTPUT_CAP. */
  stderrCap?: number;
}

export interface ResolvedWasiOptions {
  /** Each argument UTF-8 encoded with its NUL. */
  readonly args: readonly Uint8Array[];
  /** Each `KEY=value` UTF-8 encoded with its NUL. */
  readonly env: readonly Uint8Array[];
  readonly stdin: Uint8Array;
  readonly preopens: readonly Preopen[];
  readonly deadlineMs: number | null;
  readonly stdoutCap: number;
  readonly stderrCap: number;
}

const encoder = new TextEncoder();

function invalid(field: string, message: string): CowpoolError {
  return new CowpoolError('INVALID_ARGUMENT', `WASI options.${field}: ${message}`);
}

/**
 * `text` UTF-8 encoded with a NUL after it. ASCII (every CGI variable a
 * server passes, most arguments) is copied in a loop: for strings this short
 * that is several times cheaper than TextEncoder, whose cost is the call.
 */
export function withNul(text: string): Uint8Array {
  const n = text.length;
  const out = new Uint8Array(n + 1);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(`${text}\0`);
    out[i] = c;
  }
  return out;
}

function cap(value: unknown, field: string): number {
  if (value === undefined) return DEFAULT_OUTPUT_CAP;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(field, `expected a whole number of bytes ≥ 0, got ${String(value)}`);
  }
  return value;
}

/** Validates `options` and builds what a run needs (preopen trees included). */
export function resolveWasiOptions(options: WasiOptions = {}): ResolvedWasiOptions {
  if (typeof options !== 'object' || options === null) throw invalid('', 'options must be an object');
  const args = options.args ?? [];
  if (!Array.isArray(args)) throw invalid('args', 'expected an array of strings');
  const encodedArgs = args.map((arg, i) => {
    if (typeof arg !== 'string' || arg.includes('\0')) throw invalid(`args[${i}]`, 'expected a string without NUL characters');
    return withNul(arg);
  });
  const env = options.env ?? {};
  if (typeof env !== 'object' || env === null) throw invalid('env', 'expected an object of strings');
  const encodedEnv = Object.entries(env).map(([key, value]) => {
    if (key.length === 0 || key.includes('=') || key.includes('\0')) throw invalid(`env[${JSON.stringify(key)}]`, 'a name must be non-empty, without "=" or NUL');
    if (typeof value !== 'string' || value.includes('\0')) throw invalid(`env[${JSON.stringify(key)}]`, 'expected a string without NUL characters');
    return withNul(`${key}=${value}`);
  });
  const stdinInput = options.stdin ?? new Uint8Array(0);
  let stdin: Uint8Array;
  if (typeof stdinInput === 'string') stdin = encoder.encode(stdinInput);
  else if (stdinInput instanceof Uint8Array) stdin = stdinInput;
  else throw invalid('stdin', 'expected a Uint8Array or a string');
  const preopens: Preopen[] = [];
  for (const [guestPath, source] of Object.entries(options.preopens ?? {})) {
    if (guestPath.length === 0 || guestPath.includes('\0')) throw invalid('preopens', `${JSON.stringify(guestPath)} is not a usable guest path`);
    const field = `preopens[${JSON.stringify(guestPath)}]`;
    if (typeof source === 'string') {
      preopens.push({ guestPath, tree: new DirectoryTree(source, `WASI options.${field}`) });
    } else if (isMemoryDirectory(source)) {
      try {
        preopens.push({ guestPath, tree: new MemoryTree(source) });
      } catch (cause) {
        throw invalid(field, (cause as Error).message);
      }
    } else {
      throw invalid(field, 'expected a host directory path (string) or an in-memory tree (object)');
    }
  }
  const deadline = options.deadlineMs;
  if (deadline !== undefined && (typeof deadline !== 'number' || !(deadline > 0) || !Number.isFinite(deadline))) {
    throw invalid('deadlineMs', `expected a positive number of milliseconds, got ${String(deadline)}`);
  }
  return {
    args: encodedArgs,
    env: encodedEnv,
    stdin,
    preopens,
    deadlineMs: deadline ?? null,
    stdoutCap: cap(options.stdoutCap, 'stdoutCap'),
    stderrCap: cap(options.stderrCap, 'stderrCap'),
  };
}
