/**
 * QuickJS (`@jitl/quickjs-wasmfile-release-sync`) driven through its wasm
 * exports directly, without the Emscripten glue: the minified export and
 * import names are read from the glue file once, every import is a stub
 * returning 0 except `emscripten_resize_heap`, which grows the memory.
 *
 *   ctors ──► QTS_NewRuntime ──► QTS_NewContext ──► QTS_Eval(ctx, source) ──► QTS_GetFloat64
 *
 * Enough to create a runtime and a context and evaluate an expression; not a
 * host (no console, no timers, no modules).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CowpoolError } from '../errors.js';
import { emscriptenStubImports } from './stub-imports.js';

export interface QuickJsDirect {
  wasm: Uint8Array;
  /** The import the memory is supplied under. */
  memoryImport: { module: string; name: string };
  /** Imports for one instance; `memory()` is read when the heap must grow. */
  imports(memory: () => WebAssembly.Memory): WebAssembly.Imports;
  /** Export names by C name (`QTS_NewRuntime`, `malloc`, ...) and the constructors' export. */
  exportName: Record<string, string>;
  ctors: string;
}

const NEEDED = ['malloc', 'free', 'QTS_NewRuntime', 'QTS_NewContext', 'QTS_FreeContext', 'QTS_FreeRuntime', 'QTS_Eval', 'QTS_GetFloat64', 'QTS_FreeValuePointer'];

/** Loads the package and maps its names; throws BENCH_INPUT when it is missing or its glue no longer matches. */
export function loadQuickJsDirect(): QuickJsDirect {
  const require = createRequire(import.meta.url);
  let dist: string;
  try {
    dist = require.resolve('@jitl/quickjs-wasmfile-release-sync/package.json').replace(/package\.json$/, 'dist/');
  } catch (cause) {
    throw new CowpoolError('BENCH_INPUT', 'QuickJS: @jitl/quickjs-wasmfile-release-sync is not installed (a devDependency)', { cause });
  }
  const wasm = new Uint8Array(readFileSync(`${dist}emscripten-module.wasm`));
  const glue = readFileSync(`${dist}emscripten-module.cjs`, 'utf8');
  const exportName: Record<string, string> = {};
  for (const m of glue.matchAll(/c\._(\w+)=b\.([\w$]+)/g)) exportName[m[1]!] = m[2]!;
  const ctors = /Z\.([\w$]+)\(\);/.exec(glue)?.[1];
  // emscripten_resize_heap: the import that calls `grow` on the memory after reading the heap's length.
  const resize = /[,{]([\w$]+):a=>\{var d=H\.length/.exec(glue)?.[1];
  const missing = NEEDED.filter((n) => exportName[n] === undefined);
  if (ctors === undefined || resize === undefined || missing.length > 0) {
    throw new CowpoolError('BENCH_INPUT', `QuickJS: the glue of this package version does not name ${missing.join(', ') || (ctors === undefined ? 'the constructors' : 'emscripten_resize_heap')} as expected`);
  }
  const module = new WebAssembly.Module(wasm);
  const imports = WebAssembly.Module.imports(module);
  const memory = imports.find((i) => i.kind === 'memory');
  if (memory === undefined) throw new CowpoolError('BENCH_INPUT', 'QuickJS: the module does not import its memory');
  return {
    wasm,
    memoryImport: { module: memory.module, name: memory.name },
    exportName,
    ctors,
    imports: (current) => emscriptenStubImports(imports, resize, current),
  };
}

/** Calls into one QuickJS instance by C name. */
export class QuickJsCalls {
  constructor(
    private readonly exports: Record<string, unknown>,
    private readonly names: Record<string, string>,
  ) {}

  call(name: string, ...args: number[]): number {
    return (this.exports[this.names[name]!] as (...a: number[]) => number)(...args);
  }

  /** A NUL-terminated copy of `text` in the instance's heap. */
  cString(memory: WebAssembly.Memory, text: string): number {
    const bytes = new TextEncoder().encode(`${text}\0`);
    const ptr = this.call('malloc', bytes.length);
    new Uint8Array(memory.buffer).set(bytes, ptr);
    return ptr;
  }

  /** Evaluates `source` (already in the heap at `sourcePtr`, `length` bytes) in `ctx`; returns the number it yields. */
  evalNumber(ctx: number, sourcePtr: number, length: number, filenamePtr: number): number {
    const value = this.call('QTS_Eval', ctx, sourcePtr, length, filenamePtr, 0, 0);
    const result = this.call('QTS_GetFloat64', ctx, value);
    this.call('QTS_FreeValuePointer', ctx, value);
    return result;
  }
}
