/**
 * Running WASI programs on plain V8 instances:
 *
 *   runWasi(module, options)  a command: fresh instance, `_start`, result
 *   wasiHost(options)         a session for a reactor: link, `_initialize`,
 *                             call its exports, then finish() for the output
 *
 * The pooled runner is pool-run-wasi.ts; both use the same WasiHost.
 */
import { CowpoolError } from '../errors.js';
import { callEntry, exportedMemory } from './wasi-command.js';
import { WasiHost, type WasiImports } from './wasi-host.js';
import type { WasiOptions } from './wasi-options.js';
import type { WasiResult, WasiRun } from './wasi-run.js';

export interface RunWasiOptions extends WasiOptions {
  /**
   * The host to run on, made once and reused across runs (one run at a time
   * per host). Default: a new host for this run.
   */
  host?: WasiHost;
}

/** A compiled module, its bytes, or anything holding a compiled module (`{ module }`, e.g. a PreparedModule of the fresh strategy). */
export type WasiModuleSource = WebAssembly.Module | Uint8Array | ArrayBuffer | { readonly module: WebAssembly.Module; readonly pooled?: boolean };

function compiled(source: WasiModuleSource): WebAssembly.Module {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    try {
      return new WebAssembly.Module(source);
    } catch (cause) {
      throw new CowpoolError('INVALID_WASM', `runWasi: V8 rejected the module: ${(cause as Error).message}`, { cause });
    }
  }
  if (typeof source === 'object' && source !== null && source.module instanceof WebAssembly.Module) {
    if (source.pooled === true) {
      throw new CowpoolError('INVALID_ARGUMENT', 'runWasi: this prepared module is served from pooled slots (its memory is the pool\'s); run it with runWasiInPool(pool, prepared, options)');
    }
    return source.module;
  }
  throw new CowpoolError('INVALID_ARGUMENT', 'runWasi(module): expected a WebAssembly.Module, the bytes of one, or an object with a `module`');
}

/**
 * Runs a WASI command on a fresh plain instance: `_start` is called and the
 * exit code and output returned. A trap is thrown as V8's
 * WebAssembly.RuntimeError; a run past `deadlineMs` throws DEADLINE_EXCEEDED.
 */
export function runWasi(source: WasiModuleSource, options: RunWasiOptions = {}): WasiResult {
  const host = options.host ?? new WasiHost();
  const run = host.begin(options);
  let result: WasiResult | undefined;
  try {
    const module = compiled(source);
    const instance = new WebAssembly.Instance(module, host.imports);
    run.memory = exportedMemory(instance.exports);
    callEntry(run, instance.exports, '_start', true);
  } finally {
    result = host.end();
  }
  return result;
}

/** One run of a reactor (or a command driven by hand) on its own host. */
export interface WasiSession {
  /** Link the instance with these. */
  readonly imports: WasiImports;
  /** The run (its memory, descriptors and output so far). */
  readonly run: WasiRun;
  /**
   * Binds the instance's memory (its `memory` export, or `memory` given, e.g.
   * a lease's) and calls `_initialize` when exported. Usable as a snapshot
   * initializer.
   */
  initialize(exports: WebAssembly.Exports | Record<string, unknown>, memory?: WebAssembly.Memory): void;
  /** Binds as initialize() does and calls `_start`; returns the exit code. */
  start(exports: WebAssembly.Exports | Record<string, unknown>, memory?: WebAssembly.Memory): number;
  /** Ends the run: descriptors closed, output returned. Later host calls throw LEASE_RELEASED. */
  finish(): WasiResult;
}

/** A host session for one instance: link with `imports`, then `initialize` (reactor) or `start` (command). */
export function wasiHost(options: WasiOptions = {}): WasiSession {
  const host = new WasiHost();
  const run = host.begin(options);
  const bind = (exports: WebAssembly.Exports | Record<string, unknown>, memory?: WebAssembly.Memory): void => {
    run.memory = memory ?? exportedMemory(exports);
  };
  return {
    imports: host.imports,
    run,
    initialize(exports, memory) {
      bind(exports, memory);
      callEntry(run, exports, '_initialize', false);
    },
    start(exports, memory) {
      bind(exports, memory);
      callEntry(run, exports, '_start', true);
      return run.exitCode ?? 0;
    },
    finish: () => host.end(),
  };
}
