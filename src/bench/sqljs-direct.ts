/**
 * sql.js (`sql.js/dist/sql-wasm.wasm`) driven through its wasm exports
 * directly, without the Emscripten glue: export names are read from the glue
 * file; every import is a stub returning 0 except `emscripten_resize_heap`.
 * An in-memory database needs no file system.
 *
 *   ctors ──► sqlite3_open(":memory:") (runs sqlite3_initialize) ──► sqlite3_exec ──► prepare/step/column
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CowpoolError } from '../errors.js';
import { emscriptenStubImports } from './stub-imports.js';

const NEEDED = ['malloc', 'free', 'sqlite3_open', 'sqlite3_exec', 'sqlite3_close_v2', 'sqlite3_prepare_v2', 'sqlite3_step', 'sqlite3_column_double', 'sqlite3_finalize'];

export interface SqlJsDirect {
  wasm: Uint8Array;
  exportName: Record<string, string>;
  ctors: string;
  memoryExport: string;
  imports(memory: () => WebAssembly.Memory): WebAssembly.Imports;
}

export function loadSqlJsDirect(): SqlJsDirect {
  const require = createRequire(import.meta.url);
  let wasmPath: string;
  let gluePath: string;
  try {
    wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');
    gluePath = require.resolve('sql.js/dist/sql-wasm.js');
  } catch (cause) {
    throw new CowpoolError('BENCH_INPUT', 'sql.js is not installed (a devDependency)', { cause });
  }
  const wasm = new Uint8Array(readFileSync(wasmPath));
  const glue = readFileSync(gluePath, 'utf8');
  const exportName: Record<string, string> = {};
  for (const m of glue.matchAll(/k\._(\w+)=c\.([\w$]+)/g)) exportName[m[1]!] = m[2]!;
  const ctors = /gd\.([\w$]+)\(\)/.exec(glue)?.[1];
  const memoryExport = /Ga=c\.([\w$]+)/.exec(glue)?.[1];
  const resize = /[,{]([\w$]+):a=>\{var b=E\.length/.exec(glue)?.[1];
  const missing = NEEDED.filter((n) => exportName[n] === undefined);
  if (ctors === undefined || memoryExport === undefined || resize === undefined || missing.length > 0) {
    throw new CowpoolError('BENCH_INPUT', `sql.js: the glue of this package version does not name ${missing.join(', ') || 'its constructors, memory or emscripten_resize_heap'} as expected`);
  }
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm));
  return {
    wasm,
    exportName,
    ctors,
    memoryExport,
    imports: (current) => emscriptenStubImports(imports, resize, current),
  };
}

/** Calls into one sql.js instance by C name. */
export class SqlJsCalls {
  constructor(
    private readonly exports: Record<string, unknown>,
    private readonly names: Record<string, string>,
    private readonly memory: () => WebAssembly.Memory,
  ) {}

  call(name: string, ...args: number[]): number {
    return (this.exports[this.names[name]!] as (...a: number[]) => number)(...args);
  }

  cString(text: string): number {
    const bytes = new TextEncoder().encode(`${text}\0`);
    const ptr = this.call('malloc', bytes.length);
    new Uint8Array(this.memory().buffer).set(bytes, ptr);
    return ptr;
  }

  /** Opens an in-memory database; returns its handle. */
  openMemory(name: number): number {
    const out = this.call('malloc', 4);
    if (this.call('sqlite3_open', name, out) !== 0) throw new CowpoolError('BENCH_INPUT', 'sql.js: sqlite3_open(":memory:") failed');
    const db = new Int32Array(this.memory().buffer)[out >> 2]!;
    this.call('free', out);
    return db;
  }

  exec(db: number, sql: number): void {
    const rc = this.call('sqlite3_exec', db, sql, 0, 0, 0);
    if (rc !== 0) throw new CowpoolError('BENCH_INPUT', `sql.js: sqlite3_exec returned ${rc}`);
  }

  /** The first column of the first row of `query` (a pointer to SQL) as a number. */
  scalar(db: number, query: number): number {
    const out = this.call('malloc', 4);
    this.call('sqlite3_prepare_v2', db, query, -1, out, 0);
    const stmt = new Int32Array(this.memory().buffer)[out >> 2]!;
    this.call('free', out);
    const value = this.call('sqlite3_step', stmt) === 100 ? this.call('sqlite3_column_double', stmt, 0) : Number.NaN;
    this.call('sqlite3_finalize', stmt);
    return value;
  }
}
