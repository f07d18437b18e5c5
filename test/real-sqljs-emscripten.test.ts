/**
 * sql.js (SQLite built with Emscripten) instantiated through the pool's
 * Emscripten hook: every run is a fresh instance in the same slot, answers
 * queries correctly, and finds nothing of the previous run — not its table,
 * not its bytes anywhere in memory.
 *
 * Recipe for a fresh Emscripten module per run: sql.js's `initSqlJs` keeps
 * its module promise in a variable of the CommonJS file (`initSqlJsPromise`)
 * and returns it on every later call, whatever the config. So the glue file
 * is evaluated afresh per run — drop it from `require.cache`, then `require`
 * it again — and its `initSqlJs({ instantiateWasm: hook })` builds a new
 * Emscripten module whose `instantiateWasm` is the pool's hook (sql.js then
 * never fetches the .wasm itself). The module defines its own memory, so
 * `hook.wasmMemory` is not needed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createPool, type Lease } from '../src/index.js';

const require = createRequire(import.meta.url);
const GLUE = require.resolve('sql.js/dist/sql-wasm.js');
const WASM = readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'));

interface QueryResult {
  columns: string[];
  values: unknown[][];
}
interface SqlDatabase {
  /** sqlite3* in the instance's memory. */
  readonly db: number;
  exec(sql: string): QueryResult[];
  close(): void;
}
interface SqlJs {
  Database: new () => SqlDatabase;
}
type InitSqlJs = (config: { instantiateWasm: unknown }) => Promise<SqlJs>;

/** A new evaluation of the glue, so `initSqlJs` has no cached module. */
function freshInitSqlJs(): InitSqlJs {
  delete require.cache[GLUE];
  return require(GLUE) as InitSqlJs;
}

const RUNS = 4;

describe.each(['cow', 'copy', 'reuse'] as const)('strategy %s', (strategy) => {
  it('every run is a fresh database in a fresh instance of the same slot', async () => {
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(WASM, { name: 'sql-wasm.wasm' });
    expect(prepared.pooled).toBe(true);
    expect(prepared.cow).toBe(strategy !== 'copy');

    const marker = `secret-${strategy}-${process.pid}-${Date.now()}`;
    const memories = new Set<WebAssembly.Memory>();
    const handles = new Set<number>();
    for (let run = 0; run < RUNS; run++) {
      let lease: Lease | null = null;
      const hook = pool.emscriptenHook(prepared, (l) => {
        lease = l;
      });
      const SQL = await freshInitSqlJs()({ instantiateWasm: hook });
      const served = lease as Lease | null;
      expect(served, 'the hook served the instance').not.toBeNull();
      const memory = served!.memory!;
      memories.add(memory);
      // Nothing of the previous run survives anywhere in linear memory.
      expect(Buffer.from(memory.buffer).indexOf(marker)).toBe(-1);

      const db = new SQL.Database();
      handles.add(db.db);
      expect(db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")).toEqual([]);
      expect(db.exec('SELECT 6 * 7 AS answer, upper(\'sqlite\') AS name')).toEqual([
        { columns: ['answer', 'name'], values: [[42, 'SQLITE']] },
      ]);
      db.exec('CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3), (4);');
      expect(db.exec('SELECT sum(n), count(*) FROM t')[0]!.values).toEqual([[10, 4]]);
      if (run === 0) {
        db.exec(`CREATE TABLE secrets (v TEXT); INSERT INTO secrets VALUES ('${marker}');`);
        expect(db.exec('SELECT v FROM secrets')[0]!.values).toEqual([[marker]]);
        // The secret really is in linear memory, so its absence later means something.
        expect(Buffer.from(memory.buffer).indexOf(marker)).toBeGreaterThanOrEqual(0);
      } else {
        expect(() => db.exec('SELECT v FROM secrets')).toThrow(/no such table: secrets/);
      }
      // Run 0 leaves its database open: its state must vanish with the instance anyway.
      if (run > 0) db.close();
      served!.release();
    }
    // The same memory served every run, and each run's heap started from the
    // same image (SQLite allocated its handle at the same address each time).
    expect(memories.size).toBe(1);
    expect(handles.size).toBe(1);
    const stats = pool.stats();
    expect(stats.affinity).toEqual({ hits: RUNS - 1, cold: 1, evicted: 0 });
    expect(stats.retired).toBe(0);
    expect(stats.leases).toMatchObject({ acquired: RUNS, released: RUNS, active: 0 });
    pool.close();
  });
});
