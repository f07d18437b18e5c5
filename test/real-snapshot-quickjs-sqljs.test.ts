/**
 * Real modules from a snapshot, driven through their exports without glue:
 * QuickJS (imports its memory) snapshotted after a runtime and a context
 * exist, sql.js (defines its memory) after an in-memory database is open.
 * Every tenant starts from that state and nothing of the previous tenant:
 * a JS global a tenant set is gone for the next one, a table a tenant
 * created is not there for the next one.
 */
import { describe, expect, it } from 'vitest';
import { loadQuickJsDirect, QuickJsCalls } from '../src/bench/quickjs-direct.js';
import { loadSqlJsDirect, SqlJsCalls } from '../src/bench/sqljs-direct.js';
import { createPool, type InitializingInstance } from '../src/index.js';

const TENANTS = 3;

describe.each(['cow', 'copy'] as const)('strategy %s', (strategy) => {
  it('QuickJS: each tenant evaluates in the snapshot\'s fresh context', async () => {
    const q = loadQuickJsDirect();
    const pool = createPool({ strategy, limits: { maxSlots: 1 }, reset: { mode: 'restore-dirty' } });
    try {
      const SOURCE = 'globalThis.n = (globalThis.n || 0) + 1';
      let initMemory: WebAssembly.Memory | null = null;
      const prepared = await pool.prepare(q.wasm, {
        initialize: {
          imports: q.imports(() => initMemory!),
          run: (instance: InitializingInstance, memory: WebAssembly.Memory | null) => {
            initMemory = memory;
            const exports = instance.exports as Record<string, unknown>;
            (exports[q.ctors] as () => void)();
            const calls = new QuickJsCalls(exports, q.exportName);
            const ctx = calls.call('QTS_NewContext', calls.call('QTS_NewRuntime'), 0);
            return { ctx, source: calls.cString(memory!, SOURCE), file: calls.cString(memory!, 'n.js') };
          },
        },
      });
      expect(prepared.layout.memoryImported).toBe(true);
      const vm = prepared.initialized as { ctx: number; source: number; file: number };
      let memory: WebAssembly.Memory | null = null;
      const imports = q.imports(() => memory!);
      for (let tenant = 0; tenant < TENANTS; tenant++) {
        const lease = pool.instantiate(prepared, imports);
        memory = lease.memory;
        const calls = new QuickJsCalls(lease.exports, q.exportName);
        // Twice in one tenant: the context is live and keeps its globals for the tenant's lifetime.
        expect(calls.evalNumber(vm.ctx, vm.source, SOURCE.length, vm.file)).toBe(1);
        expect(calls.evalNumber(vm.ctx, vm.source, SOURCE.length, vm.file)).toBe(2);
        lease.release();
      }
    } finally {
      pool.close();
    }
  });

  it('sql.js: each tenant gets the snapshot\'s empty in-memory database', async () => {
    const s = loadSqlJsDirect();
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    try {
      const SQL = "CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3);";
      let initMemory: WebAssembly.Memory | null = null;
      const prepared = await pool.prepare(s.wasm, {
        initialize: {
          imports: s.imports(() => initMemory!),
          run: (instance: InitializingInstance) => {
            const exports = instance.exports as Record<string, unknown>;
            initMemory = exports[s.memoryExport] as WebAssembly.Memory;
            (exports[s.ctors] as () => void)();
            const calls = new SqlJsCalls(exports, s.exportName, () => initMemory!);
            return { db: calls.openMemory(calls.cString(':memory:')), sql: calls.cString(SQL), count: calls.cString('SELECT count(*) FROM t') };
          },
        },
      });
      const db = prepared.initialized as { db: number; sql: number; count: number };
      let memory: WebAssembly.Memory | null = null;
      const imports = s.imports(() => memory!);
      for (let tenant = 0; tenant < TENANTS; tenant++) {
        const lease = pool.instantiate(prepared, imports);
        memory = lease.exports[s.memoryExport] as WebAssembly.Memory;
        const calls = new SqlJsCalls(lease.exports, s.exportName, () => memory!);
        // CREATE TABLE fails (and exec throws) if a previous tenant's table were still there.
        calls.exec(db.db, db.sql);
        expect(calls.scalar(db.db, db.count)).toBe(3);
        lease.release();
      }
    } finally {
      pool.close();
    }
  });
});
