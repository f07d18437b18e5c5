/**
 * The "snapshots" bench section (`cowpool bench --snapshots`): what a tenant
 * pays to start from an initialized instance, against doing the
 * initialization itself, side by side in one run. Every group reports ratios
 * against its own baseline measured in the same run.
 *
 * - synthetic: an initializer that fills 4 MiB and sets globals and table
 *   entries. Baseline: plain instantiate + init.
 * - wizer: the same without the table change (Wizer refuses `ref.func`),
 *   snapshotted by Wizer 10.0.0 and served by plain V8 and by `cow`, against
 *   cowpool's own snapshot. Baseline: plain instantiate + init.
 * - quickjs: a fresh VM per request, ready to evaluate (runtime and context
 *   exist), then `1+2*20` evaluated. Baseline: one shared instance, a new
 *   runtime + context per request.
 * - sql.js: a fresh database per request (snapshot after `sqlite3_open`,
 *   which runs `sqlite3_initialize`), 50 inserts, a count. Baseline: one
 *   shared instance, a new in-memory database per request.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CowpoolError } from '../errors.js';
import { InstancePool } from '../pool/instance-pool.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { parseModule } from '../wasm/parse-module.js';
import { median } from '../util/statistics.js';
import { loadQuickJsDirect, QuickJsCalls } from './quickjs-direct.js';
import { snapshotInitModule } from './snapshot-init-module.js';
import { loadSqlJsDirect, SqlJsCalls, type SqlJsDirect } from './sqljs-direct.js';

export interface SnapshotRow {
  subject: string;
  medianUs: number;
  /** baseline median / this median: how many times faster than the baseline. */
  speedup: number;
  samples: number;
}

export type SnapshotGroup =
  | { name: string; status: 'measured'; baseline: string; rows: SnapshotRow[]; note: string }
  | { name: string; status: 'skipped'; reason: string };

export interface SnapshotSection {
  groups: SnapshotGroup[];
}

/** Reset modes the QuickJS snapshot is served with (its tenants write a few hundred KiB). */
const SNAPSHOT_RESET_MODES = ['madvise', 'restore-dirty', 'track-writes'] as const;

interface Subject {
  name: string;
  run: () => void;
}

export interface SnapshotSectionOptions {
  /** Samples per subject (split over interleaved rounds). Default 60. */
  samples?: number;
  rounds?: number;
  /** Unmeasured runs of each subject first. Default 30. */
  warmup?: number;
}

/** Interleaved rounds: every subject measured in every round, medians over all samples. */
function measure(subjects: readonly Subject[], samples: number, rounds: number, warmup: number): Map<string, number[]> {
  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  // Warm-up: first faults, and enough calls for V8 to tier the module's hot functions up
  // (each compiled module tiers up on its own, so a subject measured cold would pay it).
  for (const s of subjects) for (let i = 0; i < warmup; i++) s.run();
  const perRound = Math.max(1, Math.ceil(samples / rounds));
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) {
      const list = times.get(s.name)!;
      for (let i = 0; i < perRound; i++) {
        const t0 = process.hrtime.bigint();
        s.run();
        list.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
  }
  return times;
}

function rows(times: Map<string, number[]>, baseline: string): SnapshotRow[] {
  const base = median(times.get(baseline)!);
  return [...times].map(([subject, list]) => {
    const m = median(list);
    return { subject, medianUs: m, speedup: base / m, samples: list.length };
  });
}

function tenant(pool: InstancePool, prepared: PreparedModule, imports: WebAssembly.Imports = {}): Subject['run'] {
  return () => pool.instantiate(prepared, imports).release();
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new CowpoolError('BENCH_INPUT', `snapshots: ${what}`);
}

async function synthetic(pool: InstancePool, o: Required<SnapshotSectionOptions>): Promise<SnapshotGroup> {
  const bytes = snapshotInitModule({ withTable: true });
  const module = new WebAssembly.Module(bytes);
  const prepared = await pool.prepare(bytes, { name: 'init-4mib', initialize: { export: 'init' } });
  const reference = new WebAssembly.Instance(module);
  (reference.exports.init as () => void)();
  const lease = pool.instantiate(prepared);
  check((lease.exports.read as () => number)() === (reference.exports.read as () => number)(), 'the snapshot tenant reads another value than plain + init');
  lease.release();
  const times = measure([
    { name: 'plain instantiate + init', run: () => (new WebAssembly.Instance(module).exports.init as () => void)() },
    { name: 'snapshot tenant (cow)', run: tenant(pool, prepared) },
  ], o.samples, o.rounds, o.warmup);
  return { name: 'synthetic: init fills 4 MiB, sets 3 globals and 8 table entries', status: 'measured', baseline: 'plain instantiate + init', rows: rows(times, 'plain instantiate + init'), note: 'goal: snapshot tenant ≥ 50× faster' };
}

async function wizer(pool: InstancePool, o: Required<SnapshotSectionOptions>): Promise<SnapshotGroup> {
  const name = 'wizer: the same initializer without the table change';
  let wizerPath: string;
  try {
    wizerPath = (await import('@bytecodealliance/wizer')).default;
  } catch (e) {
    return { name, status: 'skipped', reason: `@bytecodealliance/wizer is not installed (${(e as Error).message.split('\n')[0]})` };
  }
  const bytes = snapshotInitModule({ withTable: false });
  const dir = mkdtempSync(join(tmpdir(), 'cowpool-bench-wizer-'));
  let wizered: Uint8Array;
  try {
    writeFileSync(join(dir, 'in.wasm'), bytes);
    execFileSync(wizerPath, [join(dir, 'in.wasm'), '-o', join(dir, 'out.wasm'), '-f', 'init'], { stdio: 'pipe' });
    wizered = new Uint8Array(readFileSync(join(dir, 'out.wasm')));
  } catch (e) {
    return { name, status: 'skipped', reason: `wizer failed: ${String((e as { stderr?: unknown }).stderr ?? e).split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const module = new WebAssembly.Module(bytes);
  const wizerModule = new WebAssembly.Module(wizered);
  const wizerCow = await pool.prepare(wizered, { name: 'init-4mib (wizer)' });
  const ours = await pool.prepare(bytes, { name: 'init-4mib (no table)', initialize: { export: 'init' } });
  const times = measure([
    { name: 'plain instantiate + init', run: () => (new WebAssembly.Instance(module).exports.init as () => void)() },
    { name: 'Wizer output, plain V8', run: () => void new WebAssembly.Instance(wizerModule) },
    { name: 'Wizer output, cow', run: tenant(pool, wizerCow) },
    { name: 'cowpool snapshot, cow', run: tenant(pool, ours) },
  ], o.samples, o.rounds, o.warmup);
  return { name, status: 'measured', baseline: 'plain instantiate + init', rows: rows(times, 'plain instantiate + init'), note: `Wizer 10.0.0 module ${wizered.length} bytes; cowpool snapshot module ${ours.snapshot?.moduleBytes ?? 0} bytes` };
}

async function quickjs(pool: InstancePool, o: Required<SnapshotSectionOptions>): Promise<SnapshotGroup> {
  const name = 'quickjs: a fresh VM per request, then 1+2*20';
  let q: ReturnType<typeof loadQuickJsDirect>;
  try {
    q = loadQuickJsDirect();
  } catch (e) {
    return { name, status: 'skipped', reason: (e as Error).message };
  }
  const limits = parseModule(q.wasm).memories[0]!.limits;
  const descriptor: WebAssembly.MemoryDescriptor = { initial: limits.initial, ...(limits.maximum === null ? {} : { maximum: limits.maximum }) };
  const module = new WebAssembly.Module(q.wasm);
  const SOURCE = '1+2*20';
  const plainInstance = (): { calls: QuickJsCalls; memory: WebAssembly.Memory; exports: Record<string, unknown> } => {
    const memory = new WebAssembly.Memory(descriptor);
    const imports = q.imports(() => memory);
    imports[q.memoryImport.module] = { ...imports[q.memoryImport.module], [q.memoryImport.name]: memory };
    const exports = new WebAssembly.Instance(module, imports).exports as Record<string, unknown>;
    (exports[q.ctors] as () => void)();
    return { calls: new QuickJsCalls(exports, q.exportName), memory, exports };
  };

  // Shared: one instance; a runtime and a context per request.
  const shared = plainInstance();
  const sharedSource = shared.calls.cString(shared.memory, SOURCE);
  const sharedFile = shared.calls.cString(shared.memory, 'eval.js');
  const sharedRequest = (): number => {
    const rt = shared.calls.call('QTS_NewRuntime');
    const ctx = shared.calls.call('QTS_NewContext', rt, 0);
    const result = shared.calls.evalNumber(ctx, sharedSource, SOURCE.length, sharedFile);
    shared.calls.call('QTS_FreeContext', ctx);
    shared.calls.call('QTS_FreeRuntime', rt);
    return result;
  };
  const plainRequest = (): number => {
    const fresh = plainInstance();
    const rt = fresh.calls.call('QTS_NewRuntime');
    const ctx = fresh.calls.call('QTS_NewContext', rt, 0);
    return fresh.calls.evalNumber(ctx, fresh.calls.cString(fresh.memory, SOURCE), SOURCE.length, fresh.calls.cString(fresh.memory, 'eval.js'));
  };

  // Snapshot: constructors, runtime, context and the source buffer exist in every tenant.
  let memoryOfInit: WebAssembly.Memory | null = null;
  const initialize = {
    imports: q.imports(() => memoryOfInit!),
    run: (instance: { exports: WebAssembly.Exports }, memory: WebAssembly.Memory | null) => {
      memoryOfInit = memory;
      const exports = instance.exports as Record<string, unknown>;
      (exports[q.ctors] as () => void)();
      const calls = new QuickJsCalls(exports, q.exportName);
      const rt = calls.call('QTS_NewRuntime');
      const ctx = calls.call('QTS_NewContext', rt, 0);
      return { rt, ctx, source: calls.cString(memory!, SOURCE), file: calls.cString(memory!, 'eval.js') };
    },
  };
  const snapshotRequests: Subject[] = [];
  let prepared: PreparedModule | null = null;
  for (const mode of SNAPSHOT_RESET_MODES) {
    const p = await pool.prepare(q.wasm, { name: `quickjs (${mode})`, initialize, reset: { mode } });
    prepared ??= p;
    const vm = p.initialized as { rt: number; ctx: number; source: number; file: number };
    let tenantMemory: WebAssembly.Memory | null = null;
    const tenantImports = q.imports(() => tenantMemory!);
    const request = (): number => {
      const lease = pool.instantiate(p, tenantImports);
      tenantMemory = lease.memory;
      try {
        return new QuickJsCalls(lease.exports, q.exportName).evalNumber(vm.ctx, vm.source, SOURCE.length, vm.file);
      } finally {
        lease.release();
      }
    };
    check(request() === 41, `QuickJS snapshot (${mode}) request evaluated 1+2*20 to something other than 41`);
    snapshotRequests.push({ name: `snapshot tenant (cow, ${mode})`, run: () => void request() });
  }
  for (const [label, request] of [['shared', sharedRequest], ['plain', plainRequest]] as const) {
    check(request() === 41, `QuickJS ${label} request evaluated 1+2*20 to something other than 41`);
  }
  const times = measure([
    { name: 'shared module, new runtime+context', run: () => void sharedRequest() },
    { name: 'fresh module, plain V8 (no glue)', run: () => void plainRequest() },
    ...snapshotRequests,
  ], o.samples, o.rounds, o.warmup * 5);
  return {
    name,
    status: 'measured',
    baseline: 'shared module, new runtime+context',
    rows: rows(times, 'shared module, new runtime+context'),
    note: `snapshot: ${prepared!.snapshot?.memory?.pages ?? 0} pages, ${prepared!.snapshot?.memory?.dataBytes ?? 0} bytes of data; goal: snapshot tenant at or below the shared-module time`,
  };
}

async function sqljs(pool: InstancePool, o: Required<SnapshotSectionOptions>): Promise<SnapshotGroup> {
  const name = 'sql.js: a fresh database per request, 50 inserts';
  let s: SqlJsDirect;
  try {
    s = loadSqlJsDirect();
  } catch (e) {
    return { name, status: 'skipped', reason: (e as Error).message };
  }
  let sql = 'CREATE TABLE t(a, b);';
  for (let i = 0; i < 50; i++) sql += `INSERT INTO t VALUES(${i}, 'row ${i}');`;
  const module = new WebAssembly.Module(s.wasm);
  const plainInstance = (): SqlJsCalls => {
    let memory: WebAssembly.Memory | null = null;
    const exports = new WebAssembly.Instance(module, s.imports(() => memory!)).exports as Record<string, unknown>;
    memory = exports[s.memoryExport] as WebAssembly.Memory;
    (exports[s.ctors] as () => void)();
    return new SqlJsCalls(exports, s.exportName, () => memory!);
  };
  const COUNT = 'SELECT count(*) FROM t';

  // Shared: one instance; a database opened, filled and closed per request.
  const shared = plainInstance();
  const sharedPtrs = { name: shared.cString(':memory:'), sql: shared.cString(sql), count: shared.cString(COUNT) };
  const sharedRequest = (): number => {
    const db = shared.openMemory(sharedPtrs.name);
    shared.exec(db, sharedPtrs.sql);
    const rows = shared.scalar(db, sharedPtrs.count);
    shared.call('sqlite3_close_v2', db);
    return rows;
  };
  const plainRequest = (): number => {
    const fresh = plainInstance();
    const db = fresh.openMemory(fresh.cString(':memory:'));
    fresh.exec(db, fresh.cString(sql));
    return fresh.scalar(db, fresh.cString(COUNT));
  };
  // Snapshot: constructors ran and an in-memory database is open (sqlite3_initialize ran inside sqlite3_open).
  let memoryOfInit: WebAssembly.Memory | null = null;
  const prepared = await pool.prepare(s.wasm, {
    name: 'sql.js',
    reset: { mode: 'restore-dirty' },
    initialize: {
      imports: s.imports(() => memoryOfInit!),
      run: (instance) => {
        const exports = instance.exports as Record<string, unknown>;
        memoryOfInit = exports[s.memoryExport] as WebAssembly.Memory;
        (exports[s.ctors] as () => void)();
        const calls = new SqlJsCalls(exports, s.exportName, () => memoryOfInit!);
        return { db: calls.openMemory(calls.cString(':memory:')), sql: calls.cString(sql), count: calls.cString(COUNT) };
      },
    },
  });
  const db = prepared.initialized as { db: number; sql: number; count: number };
  let tenantMemory: WebAssembly.Memory | null = null;
  const tenantImports = s.imports(() => tenantMemory!);
  const snapshotRequest = (): number => {
    const lease = pool.instantiate(prepared, tenantImports);
    tenantMemory = lease.exports[s.memoryExport] as WebAssembly.Memory;
    try {
      const calls = new SqlJsCalls(lease.exports, s.exportName, () => tenantMemory!);
      calls.exec(db.db, db.sql);
      return calls.scalar(db.db, db.count);
    } finally {
      lease.release();
    }
  };
  for (const [label, request] of [['shared', sharedRequest], ['plain', plainRequest], ['snapshot', snapshotRequest]] as const) {
    check(request() === 50, `sql.js ${label} request did not count 50 rows`);
  }
  const times = measure([
    { name: 'shared module, new database', run: () => void sharedRequest() },
    { name: 'fresh module, plain V8 (no glue)', run: () => void plainRequest() },
    { name: 'snapshot tenant (cow, restore-dirty)', run: () => void snapshotRequest() },
    // SQLite's hot paths tier up only after a few hundred requests; measured cold, the subjects compare compilers.
  ], Math.max(4, Math.floor(o.samples / 2)), o.rounds, o.warmup * 15);
  return {
    name,
    status: 'measured',
    baseline: 'shared module, new database',
    rows: rows(times, 'shared module, new database'),
    note: `snapshot: ${prepared.snapshot?.memory?.pages ?? 0} pages, ${prepared.snapshot?.memory?.dataBytes ?? 0} bytes of data`,
  };
}

export async function measureSnapshotSection(options: SnapshotSectionOptions = {}): Promise<SnapshotSection> {
  const o = { samples: options.samples ?? 60, rounds: options.rounds ?? 4, warmup: options.warmup ?? 30 };
  const groups: SnapshotGroup[] = [];
  // A pool per group: one group's warm slots and images do not share limits with the next.
  for (const group of [synthetic, wizer, quickjs, sqljs]) {
    const pool = new InstancePool({ strategy: 'cow', limits: { maxSlots: 4 } });
    try {
      groups.push(await group(pool, o));
    } finally {
      pool.close();
    }
  }
  return { groups };
}

function us(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value.toFixed(1)} µs`;
}

export function formatSnapshotSection(section: SnapshotSection): string {
  const out: string[] = ['Snapshots — median per fresh tenant, ratios against each group\'s baseline in this run:'];
  for (const g of section.groups) {
    out.push('', g.name);
    if (g.status === 'skipped') {
      out.push(`  skipped — ${g.reason}`);
      continue;
    }
    const width = Math.max(...g.rows.map((r) => r.subject.length));
    for (const r of g.rows) {
      const ratio = r.subject === g.baseline ? 'baseline' : r.speedup >= 1 ? `${r.speedup.toFixed(1)}× faster` : `${(1 / r.speedup).toFixed(2)}× slower`;
      out.push(`  ${r.subject.padEnd(width)}  ${us(r.medianUs).padStart(10)}  ${ratio}`);
    }
    out.push(`  ${g.note}`);
  }
  return `${out.join('\n')}\n`;
}
