/**
 * Imports that let a module be instantiated without its JavaScript glue:
 * every function import is a stub returning 0, memories, tables and globals
 * are made to the module's declared types. The bench never runs the module's
 * own code beyond the call it measures, so the stubs are only there to link.
 */
import { CowpoolError } from '../errors.js';
import type { PreparedLayout } from '../wasm/prepared-layout.js';

/** One instance's imports, and the memory among them when the module imports memory 0. */
export interface InstanceImports {
  imports: WebAssembly.Imports;
  /** The imported memory 0 made for this instance (null when not made here). */
  memory: WebAssembly.Memory | null;
}

export interface StubImports {
  /**
   * Imports for one instance. Memories, tables and globals are made anew per
   * call when the module imports any (instances must not share them); else
   * the same object is returned every time, so making imports costs nothing
   * in the measured operation.
   */
  next(): InstanceImports;
  /** The import names stubbed, for the report. */
  readonly summary: string;
}

function stubFunction(): number {
  return 0;
}

const NUMERIC_ZERO: Readonly<Record<string, number | bigint>> = { i32: 0, f32: 0, f64: 0, i64: 0n };

/**
 * Stubs for every import of `layout` (the original module's import list).
 * `memoryFromPool`: the pool supplies memory 0, so no Memory is made for it.
 * @throws CowpoolError BENCH_INPUT for an import no stub can stand in for (a tag, an unknown table or global type).
 */
export function stubImports(layout: PreparedLayout, name: string, memoryFromPool: boolean): StubImports {
  type Maker = () => WebAssembly.ImportValue;
  const fixed: WebAssembly.Imports = {};
  const perInstance: { module: string; name: string; make: Maker; isMemory0: boolean }[] = [];
  const counts = { function: 0, memory: 0, table: 0, global: 0 };
  for (const imp of layout.imports) {
    const where = `${name}: import ${JSON.stringify(imp.module)}.${JSON.stringify(imp.name)}`;
    switch (imp.kind) {
      case 'function':
        (fixed[imp.module] ??= {})[imp.name] = stubFunction;
        counts.function++;
        break;
      case 'memory': {
        counts.memory++;
        const memory = layout.memory;
        if (imp.index !== 0 || memory === null) {
          throw new CowpoolError('BENCH_INPUT', `${where} is a second memory; the bench links modules with one memory only`);
        }
        if (memoryFromPool) break;
        const descriptor: WebAssembly.MemoryDescriptor = { initial: memory.initialPages };
        if (memory.maximumPages !== null) descriptor.maximum = memory.maximumPages;
        if (memory.shared) descriptor.shared = true;
        perInstance.push({ module: imp.module, name: imp.name, make: () => new WebAssembly.Memory(descriptor), isMemory0: true });
        break;
      }
      case 'table': {
        counts.table++;
        const table = layout.tables[imp.index];
        const element = table?.elemType === 'funcref' ? 'anyfunc' : table?.elemType === 'externref' ? 'externref' : null;
        if (table === undefined || element === null) {
          throw new CowpoolError('BENCH_INPUT', `${where} is a table of ${table?.elemType ?? 'unknown'} elements; the bench can stub funcref and externref tables only`);
        }
        const descriptor: WebAssembly.TableDescriptor = { element, initial: table.initial };
        if (table.maximum !== null) descriptor.maximum = table.maximum;
        perInstance.push({ module: imp.module, name: imp.name, make: () => new WebAssembly.Table(descriptor), isMemory0: false });
        break;
      }
      case 'global': {
        counts.global++;
        const global = layout.globals[imp.index];
        const zero = global === undefined ? undefined : NUMERIC_ZERO[global.valtype];
        const isRef = global?.valtype === 'funcref' || global?.valtype === 'externref';
        if (global === undefined || (zero === undefined && !isRef)) {
          throw new CowpoolError('BENCH_INPUT', `${where} is a global of type ${global?.valtype ?? 'unknown'}; the bench can stub i32, i64, f32, f64, funcref and externref globals only`);
        }
        const value = (global.valtype === 'funcref' ? 'anyfunc' : global.valtype) as WebAssembly.ValueType;
        const initial = isRef ? null : zero;
        perInstance.push({
          module: imp.module,
          name: imp.name,
          make: () => new WebAssembly.Global({ value, mutable: global.mutable }, initial),
          isMemory0: false,
        });
        break;
      }
      case 'tag':
        throw new CowpoolError('BENCH_INPUT', `${where} is an exception tag; the bench cannot stub tags — measure this module with its own glue`);
    }
  }
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : 's'}`);
  const summary = parts.length === 0 ? 'no imports' : `stubbed ${parts.join(', ')}`;
  if (perInstance.length === 0) {
    const shared: InstanceImports = { imports: fixed, memory: null };
    return { next: () => shared, summary };
  }
  return {
    summary,
    next: () => {
      const imports: WebAssembly.Imports = {};
      for (const [module, fields] of Object.entries(fixed)) imports[module] = { ...fields };
      let memory: WebAssembly.Memory | null = null;
      for (const item of perInstance) {
        const value = item.make();
        (imports[item.module] ??= {})[item.name] = value;
        if (item.isMemory0) memory = value as WebAssembly.Memory;
      }
      return { imports, memory };
    },
  };
}

/**
 * Imports for an Emscripten module driven without its glue: every function
 * import returns 0, except `resize` (the glue's minified name for
 * emscripten_resize_heap), which grows `current()` to the requested byte
 * length and answers 1, or 0 when the memory cannot grow.
 */
export function emscriptenStubImports(
  imports: readonly WebAssembly.ModuleImportDescriptor[],
  resize: string,
  current: () => WebAssembly.Memory,
): WebAssembly.Imports {
  const growTo = (requested: number): number => {
    const m = current();
    const pages = Math.ceil((requested >>> 0) / 65536) - m.buffer.byteLength / 65536;
    try {
      if (pages > 0) m.grow(pages);
      return 1;
    } catch {
      return 0;
    }
  };
  const out: WebAssembly.Imports = {};
  for (const i of imports) {
    if (i.kind !== 'function') continue;
    (out[i.module] ??= {})[i.name] = i.name === resize ? growTo : stubFunction;
  }
  return out;
}
