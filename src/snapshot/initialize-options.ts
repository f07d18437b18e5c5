/**
 * The `initialize` option of `prepare`: how to bring a fresh instance to the
 * state every tenant starts from. Input vs resolved form, defaults in one place.
 */
import { CowpoolError } from '../errors.js';

/** What an initializer is handed: the instance's own exports (nothing cowpool added). */
export interface InitializingInstance {
  readonly exports: WebAssembly.Exports;
}

/**
 * Host code that initializes the instance; may be async and may call the
 * instance's imports. Its return value is cloned (structuredClone) into
 * `prepared.initialized`.
 */
export type InitializeRun = (instance: InitializingInstance, memory: WebAssembly.Memory | null) => unknown;

export interface InitializeOptions {
  /** An exported function to call once with no arguments (`_initialize`, `wizer.initialize`). */
  export?: string;
  /** Host code that initializes (exactly one of `export` / `run`). */
  run?: InitializeRun;
  /** Imports of the initializing instance. A memory the module imports is supplied by cowpool. */
  imports?: WebAssembly.Imports;
  /** Start function plus initializer must return (or settle) within this many milliseconds. Default 60 000. */
  timeoutMs?: number;
}

export const DEFAULT_INITIALIZE_TIMEOUT_MS = 60_000;

export interface ResolvedInitialize {
  kind: 'export' | 'run';
  /** The export name, or `run` for host code (for messages). */
  label: string;
  exportName: string | null;
  run: InitializeRun | null;
  imports: WebAssembly.Imports;
  timeoutMs: number;
}

function invalid(message: string): CowpoolError {
  return new CowpoolError('INVALID_ARGUMENT', `prepare(): options.initialize ${message}`);
}

/** Checks `given` and fills the defaults. Throws INVALID_ARGUMENT naming the field and the fix. */
export function resolveInitialize(given: unknown): ResolvedInitialize {
  if (typeof given !== 'object' || given === null) {
    throw invalid(`must be an object such as { export: 'init' } or { run: (instance, memory) => value }; got ${given === null ? 'null' : typeof given}`);
  }
  const o = given as InitializeOptions;
  const hasExport = o.export !== undefined;
  const hasRun = o.run !== undefined;
  if (hasExport === hasRun) {
    throw invalid(`needs exactly one of \`export\` (an exported function's name) and \`run\` (host code); got ${hasExport ? 'both' : 'neither'}`);
  }
  if (hasExport && (typeof o.export !== 'string' || o.export.length === 0)) {
    throw invalid(`.export must be the non-empty name of an exported function; got ${typeof o.export}`);
  }
  if (hasRun && typeof o.run !== 'function') {
    throw invalid(`.run must be a function (instance, memory) => value; got ${typeof o.run}`);
  }
  if (o.imports !== undefined && (typeof o.imports !== 'object' || o.imports === null)) {
    throw invalid('.imports must be an imports object ({ module: { name: value } })');
  }
  const timeoutMs = o.timeoutMs ?? DEFAULT_INITIALIZE_TIMEOUT_MS;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) {
    throw invalid(`.timeoutMs must be a positive integer number of milliseconds; got ${String(o.timeoutMs)}`);
  }
  return {
    kind: hasExport ? 'export' : 'run',
    label: hasExport ? `export "${o.export}"` : 'run()',
    exportName: hasExport ? (o.export as string) : null,
    run: hasRun ? (o.run as InitializeRun) : null,
    imports: o.imports ?? {},
    timeoutMs,
  };
}
