/**
 * The WASI preview1 host: its import functions are made ONCE, when the host
 * is made, and read everything from the run that is current when they are
 * called. A pool (or a loop of plain instances) links every tenant to the
 * same functions and points the host at the next tenant with begin().
 *
 *   idle ──begin(options)──► running(run) ──end()──► idle
 *
 * Invariant: `#run` is non-null exactly while a run is current.
 * Invariant: `imports` and every function in it never change after construction.
 *
 * Every call: entry check (a run is current, not exited, before its
 * deadline), then the call; a guest pointer outside memory is EFAULT, a host
 * I/O failure is EIO, anything preview1 defines but this host does not cover
 * is ENOSYS. What is thrown to the guest is only: WasiExit (proc_exit),
 * DEADLINE_EXCEEDED, and LEASE_RELEASED for a call with no run current.
 */
import { CowpoolError } from '../errors.js';
import { GuestFault } from './guest-memory.js';
import { ERRNO, PREVIEW1_FUNCTIONS, WASI_MODULE } from './wasi-abi.js';
import { fdCalls } from './wasi-fd-calls.js';
import { resolveWasiOptions, type ResolvedWasiOptions, type WasiOptions } from './wasi-options.js';
import { pathCalls } from './wasi-path-calls.js';
import { processCalls } from './wasi-process-calls.js';
import { WasiRun, type WasiResult } from './wasi-run.js';

type Call = (run: WasiRun, ...args: never[]) => number;

/** The calls this host implements; every other preview1 name returns ENOSYS. */
const CALLS: Readonly<Record<string, Call>> = { ...processCalls, ...fdCalls, ...pathCalls } as Record<string, Call>;

/** The preview1 calls this host implements (the rest return ENOSYS). */
export const IMPLEMENTED_CALLS: readonly string[] = PREVIEW1_FUNCTIONS.filter((name) => name in CALLS);

/** A Node system error (from fs): the guest sees EIO, never the exception. */
function isSystemError(e: unknown): boolean {
  return e instanceof Error && typeof (e as { syscall?: unknown }).syscall === 'string' && !(e instanceof CowpoolError);
}

export type WasiImports = { [WASI_MODULE]: Record<string, (...args: never[]) => number> };

/**
 * The preview1 import table, every call reading its run from `current`
 * (which throws when no run may continue). Made once per host, or once per
 * slot by the pool's host bindings (see wasi-slot-host.ts).
 */
export function wasiImportTable(current: (name: string) => WasiRun): WasiImports {
  const table: Record<string, (...args: never[]) => number> = {};
  for (const name of PREVIEW1_FUNCTIONS) {
    const call = CALLS[name];
    table[name] = call === undefined ? unsupported(name, current) : bind(name, call, current);
  }
  return { [WASI_MODULE]: table };
}

function bind(name: string, call: Call, current: (name: string) => WasiRun): (...args: never[]) => number {
  return (...args: never[]): number => {
    const run = current(name);
    try {
      return call(run, ...args);
    } catch (e) {
      if (e instanceof GuestFault) return ERRNO.FAULT;
      if (isSystemError(e)) return ERRNO.IO;
      throw e;
    }
  };
}

function unsupported(name: string, current: (name: string) => WasiRun): () => number {
  return (): number => {
    current(name);
    return ERRNO.NOSYS;
  };
}

export class WasiHost {
  readonly imports: WasiImports;
  #run: WasiRun | null = null;

  constructor() {
    this.imports = wasiImportTable((name) => this.#current(name));
  }

  /** The run host calls go to now; null when idle. */
  get run(): WasiRun | null {
    return this.#run;
  }

  /**
   * Starts a run; bind its memory (`run.memory = ...`) once the instance
   * exists. Entry: idle (HOST_BUSY otherwise).
   */
  begin(options: WasiOptions | ResolvedWasiOptions = {}): WasiRun {
    if (this.#run !== null) {
      throw new CowpoolError('HOST_BUSY', 'WasiHost.begin(): this host is serving another run; end() it first, or make one WasiHost per concurrent run');
    }
    const resolved = isResolved(options) ? options : resolveWasiOptions(options);
    this.#run = new WasiRun(resolved);
    return this.#run;
  }

  /** Ends the current run and returns what it produced. Entry: a run is current. */
  end(): WasiResult {
    const run = this.#run;
    if (run === null) throw new CowpoolError('SLOT_STATE', 'WasiHost.end(): no run is current; call begin() first');
    this.#run = null;
    return run.finish();
  }

  #current(name: string): WasiRun {
    const run = this.#run;
    if (run === null) {
      throw new CowpoolError('LEASE_RELEASED', `wasi ${name}: no run is current on this host (its tenant's run ended); instantiate again for a new run`);
    }
    run.enter(name);
    return run;
  }
}

function isResolved(options: WasiOptions | ResolvedWasiOptions): options is ResolvedWasiOptions {
  return Array.isArray((options as ResolvedWasiOptions).preopens);
}

