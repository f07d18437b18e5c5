/**
 * What a test can observe of a WebAssembly instance, in a form two instances
 * (a plain V8 one and a pooled one) can be compared by: memory size and
 * contents, global values, table entries, call results and trap classes.
 * Works on any exports object — `instance.exports` or a lease's view.
 */
import { createHash } from 'node:crypto';

/** A call's result, or the class and message of what it threw. */
export type Outcome = { value: unknown } | { threw: string; message: string };

export interface InstanceState {
  /** Per exported memory: size in wasm pages and a digest of every byte. */
  memories: Record<string, { pages: number; sha256: string }>;
  /** Per exported global: its value (bigint for i64, functions described). */
  globals: Record<string, unknown>;
  /** Per exported table: every entry described (see describeValue). */
  tables: Record<string, string[]>;
}

const WASM_PAGE = 65536;

/**
 * A value comparable across instances: wasm functions by their index (V8
 * names an exported wasm function after its function index), null as
 * `null`; anything else unchanged.
 */
export function describeValue(value: unknown): unknown {
  if (typeof value === 'function') return `func:${(value as { name: string }).name}`;
  return value;
}

/** Runs `run` and records its result or what it threw (class name, CowpoolError code, message). */
export function outcomeOf(run: () => unknown): Outcome {
  try {
    return { value: describeValue(run()) };
  } catch (e) {
    if (!(e instanceof Error)) return { threw: typeof e, message: String(e) };
    const code = (e as { code?: unknown }).code;
    const threw = e.name === 'CowpoolError' && typeof code === 'string' ? `CowpoolError:${code}` : e.name;
    return { threw, message: e.message };
  }
}

/** Like outcomeOf for a promise. */
export async function asyncOutcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { value: describeValue(await run()) };
  } catch (e) {
    return outcomeOf(() => {
      throw e;
    });
  }
}

/** A copy of every byte of `memory` now. */
export function memoryBytes(memory: WebAssembly.Memory): Uint8Array {
  return new Uint8Array(memory.buffer).slice();
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Index of the first byte where `a` and `b` differ (a length difference counts), or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  const step = 4096;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    if (Buffer.compare(a.subarray(start, end), b.subarray(start, end)) === 0) continue;
    for (let i = start; i < end; i++) if (a[i] !== b[i]) return i;
  }
  return a.length === b.length ? -1 : n;
}

/** Entries of a table, described. */
export function tableEntries(table: WebAssembly.Table): string[] {
  const out: string[] = [];
  for (let i = 0; i < table.length; i++) out.push(String(describeValue(table.get(i))));
  return out;
}

/**
 * The state of every exported memory, global and table named by `module`'s
 * export list, read through `exports`.
 */
export function instanceState(exports: Record<string, unknown>, module: WebAssembly.Module): InstanceState {
  const state: InstanceState = { memories: {}, globals: {}, tables: {} };
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    const value = exports[name];
    if (kind === 'memory') {
      const memory = value as WebAssembly.Memory;
      state.memories[name] = { pages: memory.buffer.byteLength / WASM_PAGE, sha256: sha256(new Uint8Array(memory.buffer)) };
    } else if (kind === 'global') {
      state.globals[name] = describeValue((value as WebAssembly.Global).value);
    } else if (kind === 'table') {
      state.tables[name] = tableEntries(value as WebAssembly.Table);
    }
  }
  return state;
}

/** Calls the exported function `name` of `exports` with `args`. */
export function callExport(exports: Record<string, unknown>, name: string, ...args: unknown[]): unknown {
  const fn = exports[name];
  if (typeof fn !== 'function') throw new Error(`export ${name} is not a function (it is ${typeof fn})`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}
