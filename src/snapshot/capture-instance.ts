/**
 * Instantiates the instrumented copy, runs start and the initializer under
 * their deadline, and reads the resulting state back. Everything that cannot
 * be reproduced exactly is refused here (SNAPSHOT_UNSUPPORTED); failures of
 * the module or the initializer are INSTANTIATE_FAILED. Nothing of the pool
 * is touched: a failure leaves only garbage.
 */
import { CowpoolError } from '../errors.js';
import type { ModuleInfo } from '../wasm/module-info.js';
import type { CapturedState, CapturedValue } from './captured-state.js';
import type { ResolvedInitialize } from './initialize-options.js';
import { callWithin, DeadlineExceeded, settleBefore } from './initializer-deadline.js';
import type { GlobalReader, Instrumentation } from './instrumented-module.js';
import { snapshotUnsupported } from './snapshot-unsupported.js';

const WASM_PAGE = 65_536;

function failed(moduleName: string, what: string, cause: unknown): CowpoolError {
  const detail = cause instanceof DeadlineExceeded ? cause.message : cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new CowpoolError('INSTANTIATE_FAILED', `${moduleName}: ${what} failed: ${detail}`, { cause });
}

type Exports = Record<string, unknown>;

function readBits(exports: Exports, reader: Extract<GlobalReader, { via: 'bits' }>): CapturedValue {
  const call = (name: string): unknown => (exports[name] as () => unknown)();
  switch (reader.valtype) {
    case 'i32':
      return { valtype: 'i32', value: call(reader.exports[0]!) as number };
    case 'i64':
      return { valtype: 'i64', value: call(reader.exports[0]!) as bigint };
    case 'f32':
      return { valtype: 'f32', bits: call(reader.exports[0]!) as number };
    case 'f64':
      return { valtype: 'f64', bits: call(reader.exports[0]!) as bigint };
    case 'v128':
      return { valtype: 'v128', lanes: [call(reader.exports[0]!) as bigint, call(reader.exports[1]!) as bigint] };
  }
}

/** What a global reader sees now, comparable with Object.is per component. */
function observe(exports: Exports, reader: GlobalReader): unknown[] {
  if (reader.via === 'global') return [(exports[reader.exportName] as WebAssembly.Global).value];
  return reader.exports.map((name) => (exports[name] as () => unknown)());
}

function tableValues(table: WebAssembly.Table): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < table.length; i++) out.push(table.get(i));
  return out;
}

function importName(info: ModuleInfo, kind: 'global' | 'table' | 'memory', index: number): string {
  const entry = info.imports.find((i) => i.kind === kind && i.index === index);
  return entry === undefined ? '' : ` (${entry.module}.${entry.name})`;
}

export interface Captured {
  state: CapturedState;
  /** The initializer's return value, cloned. */
  initialized: unknown;
}

/** Runs the initialization in the instrumented copy and reads its state. */
export async function captureInstance(
  info: ModuleInfo,
  instrumentation: Instrumentation,
  initialize: ResolvedInitialize,
  moduleName: string,
): Promise<Captured> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(instrumentation.bytes);
  } catch (cause) {
    throw snapshotUnsupported(moduleName, `the instrumented copy does not compile (${(cause as Error).message}); this is a cowpool bug, please report it with the module`);
  }

  // An imported memory is supplied here, as the pool supplies it to tenants.
  const memory0 = info.memories[0];
  let memory: WebAssembly.Memory | null = null;
  const imports: WebAssembly.Imports = { ...initialize.imports };
  if (memory0?.imported === true) {
    const entry = info.imports.find((i) => i.kind === 'memory' && i.index === 0)!;
    const descriptor: WebAssembly.MemoryDescriptor = { initial: memory0.limits.initial };
    if (memory0.limits.maximum !== null) descriptor.maximum = memory0.limits.maximum;
    memory = new WebAssembly.Memory(descriptor);
    imports[entry.module] = { ...imports[entry.module], [entry.name]: memory };
  }

  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (cause) {
    throw failed(moduleName, 'instantiation for the snapshot', cause);
  }
  const exports = instance.exports as Exports;
  if (instrumentation.memoryExport !== null) memory = exports[instrumentation.memoryExport] as WebAssembly.Memory;

  // Imported state as instantiation left it: the initializer must not change it.
  const importedGlobals = info.globals.filter((g) => g.imported && g.mutable);
  const importedTables = info.tables.filter((t) => t.imported);
  const globalsBefore = importedGlobals.map((g) => observe(exports, instrumentation.globalReaders.get(g.index)!));
  const tablesBefore = importedTables.map((t) => tableValues(exports[instrumentation.tableExports.get(t.index)!] as WebAssembly.Table));

  const deadline = performance.now() + initialize.timeoutMs;
  const remaining = (): number => Math.max(1, Math.ceil(deadline - performance.now()));
  if (instrumentation.startExport !== null) {
    const start = exports[instrumentation.startExport] as () => void;
    try {
      callWithin(() => start(), remaining());
    } catch (cause) {
      throw failed(moduleName, `the start function (function ${info.start})`, cause);
    }
  }

  const shown: Exports = Object.create(null) as Exports;
  for (const name of instrumentation.originalExports) shown[name] = exports[name];
  Object.freeze(shown);
  let result: unknown;
  try {
    if (initialize.exportName !== null) {
      const fn = shown[initialize.exportName];
      if (typeof fn !== 'function') {
        throw new CowpoolError('INVALID_ARGUMENT', `${moduleName}: initialize.export "${initialize.exportName}" is not an exported function (exports: ${instrumentation.originalExports.join(', ') || 'none'})`);
      }
      result = callWithin(() => (fn as () => unknown)(), remaining());
    } else {
      const run = initialize.run!;
      const view = Object.freeze({ exports: shown as WebAssembly.Exports });
      result = await settleBefore(callWithin(() => run(view, memory), remaining()), deadline, initialize.timeoutMs);
    }
  } catch (cause) {
    if (cause instanceof CowpoolError) throw cause;
    throw failed(moduleName, `the initializer (${initialize.label})`, cause);
  }
  let initialized: unknown;
  try {
    initialized = structuredClone(result);
  } catch (cause) {
    throw failed(moduleName, `cloning what the initializer (${initialize.label}) returned`, new Error(`${(cause as Error).message}; return plain data (numbers, strings, arrays, objects), not functions or wasm objects`));
  }

  importedGlobals.forEach((g, i) => {
    const after = observe(exports, instrumentation.globalReaders.get(g.index)!);
    if (!after.every((v, j) => Object.is(v, globalsBefore[i]![j]))) {
      throw snapshotUnsupported(moduleName, `imported mutable global ${g.index}${importName(info, 'global', g.index)} was changed during initialization; tenants import their own`);
    }
  });
  importedTables.forEach((t, i) => {
    const after = tableValues(exports[instrumentation.tableExports.get(t.index)!] as WebAssembly.Table);
    const before = tablesBefore[i]!;
    const at = after.length !== before.length ? -1 : after.findIndex((v, j) => !Object.is(v, before[j]));
    if (after.length !== before.length || at >= 0) {
      const where = at < 0 ? `its size went from ${before.length} to ${after.length}` : `entry ${at} changed`;
      throw snapshotUnsupported(moduleName, `imported table ${t.index}${importName(info, 'table', t.index)} was changed during initialization (${where}); tenants import their own`);
    }
  });

  return { state: readState(info, instrumentation, exports, memory, moduleName), initialized };
}

function readState(info: ModuleInfo, instrumentation: Instrumentation, exports: Exports, memory: WebAssembly.Memory | null, moduleName: string): CapturedState {
  // Function objects back to indices (the JS API hands out one object per function per instance).
  let functions: Map<unknown, number> | null = null;
  const ambiguous = new Set<unknown>();
  const functionIndex = (value: unknown, where: string): number | null => {
    if (value === null) return null;
    if (functions === null) {
      functions = new Map();
      instrumentation.functionExports.forEach((name, index) => {
        const fn = exports[name];
        if (functions!.has(fn)) ambiguous.add(fn);
        else functions!.set(fn, index);
      });
    }
    const index = functions.get(value);
    if (index === undefined) {
      throw snapshotUnsupported(moduleName, `${where} holds a function that is neither one of the module's functions nor one of its imports`);
    }
    if (ambiguous.has(value)) {
      throw snapshotUnsupported(moduleName, `${where} holds a function the module imports under more than one index; the snapshot could not say which import a tenant's entry refers to`);
    }
    return index;
  };

  const globals = new Map<number, CapturedValue>();
  for (const g of info.globals) {
    if (g.imported || !g.mutable) continue;
    const reader = instrumentation.globalReaders.get(g.index)!;
    if (reader.via === 'bits') {
      globals.set(g.index, readBits(exports, reader));
      continue;
    }
    const value = (exports[reader.exportName] as WebAssembly.Global).value as unknown;
    if (reader.valtype === 'externref') {
      if (value !== null) throw snapshotUnsupported(moduleName, `mutable global ${g.index} (externref) holds a non-null reference; externref values cannot be written into a module`);
      globals.set(g.index, { valtype: 'externref' });
    } else {
      globals.set(g.index, { valtype: 'funcref', func: functionIndex(value, `mutable global ${g.index} (funcref)`) });
    }
  }

  const tables = new Map<number, (number | null)[]>();
  for (const t of info.tables) {
    if (t.imported) continue;
    const table = exports[instrumentation.tableExports.get(t.index)!] as WebAssembly.Table;
    const entries: (number | null)[] = [];
    for (let i = 0; i < table.length; i++) {
      const value = table.get(i) as unknown;
      if (value === null) {
        entries.push(null);
      } else if (t.elemType !== 'funcref') {
        throw snapshotUnsupported(moduleName, `table ${t.index} (${t.elemType}) entry ${i} holds a non-null reference; only funcref tables can hold non-null entries in a snapshot`);
      } else {
        entries.push(functionIndex(value, `table ${t.index} entry ${i}`));
      }
    }
    tables.set(t.index, entries);
  }

  const dropped = (probes: Map<number, string>): Set<number> => {
    const out = new Set<number>();
    for (const [segment, name] of probes) {
      try {
        (exports[name] as () => void)();
      } catch (e) {
        if (!(e instanceof WebAssembly.RuntimeError)) throw e;
        out.add(segment);
      }
    }
    return out;
  };
  for (const e of info.elements) {
    if (e.mode === 'passive' && e.length > 0 && !instrumentation.elementProbes.has(e.index)) {
      throw snapshotUnsupported(moduleName, `passive element segment ${e.index} has type ${e.elemType}; whether it was dropped cannot be probed`);
    }
  }

  const bytes = memory === null ? null : new Uint8Array(memory.buffer).slice();
  return {
    memory: bytes === null ? null : { bytes, pages: bytes.length / WASM_PAGE },
    globals,
    tables,
    droppedData: dropped(instrumentation.dataProbes),
    droppedElements: dropped(instrumentation.elementProbes),
  };
}
