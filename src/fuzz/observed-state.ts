/**
 * Everything a tenant can observe of a freshly created instance of a
 * generated module — every byte of memory, memory.size, every global, every
 * table entry — read through its exports, and the comparison the isolation
 * fuzzer makes against a plain V8 instance of the same module.
 */
import { funcId, type ModuleShape } from './module-shape.js';

export interface ObservedState {
  /** A copy of every byte of `mem`; null without a memory. */
  memory: Uint8Array | null;
  /** What the module's own `size()` (memory.size) returns. */
  pages: number | null;
  /** Global values, described (`i64:-1`, `f32:-0`, ...). */
  globals: string[];
  /** Per table, per entry: `null` or `f<k>` (the function's identity, asked of the function itself). */
  tables: string[][];
}

function describeNumber(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  // Object.is tells -0 from 0 and NaN from everything, as a byte compare would.
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return String(value);
}

function describeEntry(entry: unknown): string {
  if (entry === null) return 'null';
  if (typeof entry !== 'function') return `not a function (${typeof entry})`;
  const result = (entry as () => unknown)();
  for (let k = 0; k < 64; k++) if (result === funcId(k)) return `f${k}`;
  return `function returning ${String(result)}`;
}

/** Reads the state of the instance behind `exports` (an instance's exports or a lease's view). */
export function observeState(exports: Record<string, unknown>, shape: ModuleShape): ObservedState {
  let memory: Uint8Array | null = null;
  let pages: number | null = null;
  if (shape.memory !== null) {
    memory = new Uint8Array((exports.mem as WebAssembly.Memory).buffer).slice();
    pages = (exports.size as () => number)();
  }
  const globals = shape.globals.map((g, i) => `${g.type}:${describeNumber((exports[`g${i}`] as WebAssembly.Global).value)}`);
  const tables = shape.tables.map((_, t) => {
    const table = exports[`t${t}`] as WebAssembly.Table;
    const entries: string[] = [];
    for (let i = 0; i < table.length; i++) entries.push(describeEntry(table.get(i)));
    return entries;
  });
  return { memory, pages, globals, tables };
}

function hex(n: number | undefined): string {
  return n === undefined ? 'nothing' : `0x${n.toString(16).padStart(2, '0')}`;
}

/**
 * The first difference between what a fresh V8 instance shows (`expected`)
 * and what the pooled one shows (`actual`), for people; null when equal.
 */
export function stateDifference(expected: ObservedState, actual: ObservedState): string | null {
  if (expected.pages !== actual.pages) return `memory.size is ${actual.pages} pages, a fresh instance has ${expected.pages}`;
  const a = actual.memory;
  const e = expected.memory;
  if ((a === null) !== (e === null)) return `memory is ${a === null ? 'missing' : 'present'}, a fresh instance ${e === null ? 'has none' : 'has one'}`;
  if (a !== null && e !== null) {
    if (a.length !== e.length) return `memory is ${a.length} bytes, a fresh instance has ${e.length}`;
    if (Buffer.compare(a, e) !== 0) {
      let first = -1;
      let count = 0;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== e[i]) {
          if (first < 0) first = i;
          count++;
        }
      }
      return `memory differs at ${count} byte(s), first at offset ${first} (0x${first.toString(16)}): ${hex(a[first])}, a fresh instance has ${hex(e[first])}`;
    }
  }
  for (let i = 0; i < expected.globals.length; i++) {
    if (expected.globals[i] !== actual.globals[i]) return `global g${i} is ${actual.globals[i]}, a fresh instance has ${expected.globals[i]}`;
  }
  for (let t = 0; t < expected.tables.length; t++) {
    const et = expected.tables[t] ?? [];
    const at = actual.tables[t] ?? [];
    if (et.length !== at.length) return `table t${t} has ${at.length} entries, a fresh instance has ${et.length}`;
    for (let i = 0; i < et.length; i++) {
      if (et[i] !== at[i]) return `table t${t} entry ${i} is ${at[i]}, a fresh instance has ${et[i]}`;
    }
  }
  return null;
}
