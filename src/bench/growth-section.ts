/**
 * The "growth" bench section: what one run of a WASI command that grows its
 * memory costs, measured side by side in one process and one run:
 *
 *   plain    cowpool's WASI host, a new V8 instance per run (runWasi)
 *   retire   a `cow` pool prepared with growth 'retire': a memory that grew is
 *            replaced, so every growing run pays for a new memory and its faults
 *   virtual  a `cow` pool prepared with growth 'virtual': the slot keeps its
 *            memory, zeroes and closes the grown tail on release
 *
 * Cases (issue "Memories that grow per request"):
 *   cgi-grow 1 MiB, 4 MiB   a WAGI handler that mallocs and memsets QUERY_STRING MiB
 *   sqlite snapshot         the SQLite endpoint's point query on its snapshot
 *                           (`_initialize` + `cowpool_init`, as `cowpool serve` does);
 *                           plain instantiates the snapshot module per run
 *   sqlite 1,000 rows       no snapshot: each run opens a database, loads 1,000 rows
 *                           (SQLITE_ROWS) and queries: a light run whose heap grows
 *                           from the module's 2 pages every time
 *   sqlite no snapshot      the same query, each run loading the 40,000-row dataset
 *                           (slow: fewer rounds of one run)
 *
 * Beside the times, each pooled column reports the memories `stats().retired`
 * counted per timed run: why 'retire' costs what it does.
 *
 * Rounds interleave the three subjects and change their order every round: a
 * pooled batch that runs right after plain's is measurably slower (plain
 * leaves megabytes of new memory behind), and a fixed order would charge that
 * to one growth mode only.
 *
 * The modules are read from the repository's test/fixtures/wasi and
 * examples/sqlite-endpoint; an installed package has neither and the section
 * is skipped with that reason.
 */
import { wasiReactorInitializer } from '../host/wasi-reactor-initializer.js';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPool, type InstancePool } from '../pool/instance-pool.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { runWasi, type RunWasiOptions } from '../host/run-wasi.js';
import { WasiHost } from '../host/wasi-host.js';
// Installs the WASI runner pool.runWasi uses (the package entry loads it the same way).
import '../host/wasi-slot-host.js';
import type { WasiResult } from '../host/wasi-run.js';
import type { WasiOptions } from '../host/wasi-options.js';
import { median } from '../util/statistics.js';
import { formatRatio, formatTime } from './report-format.js';

/** The repository root (above dist/bench or src/bench), where the modules live. */
const REPOSITORY = new URL('../../', import.meta.url);
const CGI_GROW = 'test/fixtures/wasi/cgi-grow.wasm';
const SQLITE = 'examples/sqlite-endpoint/handler.wasm';

/** Runs per timed batch of the fast cases. */
export const GROWTH_BATCH = 5;
/** The slow case (a dataset load per run) runs this many times fewer rounds, of one run each. */
export const SLOW_ROUND_DIVISOR = 5;

const POINT_QUERY = 'SELECT name FROM items WHERE id = 5;';

interface GrowthCase {
  name: string;
  /** Relative to the repository root. */
  file: string;
  options: WasiOptions;
  /** The export a snapshot initializer calls after `_initialize`; null: no snapshot. */
  snapshot: string | null;
  /** Tens of milliseconds per run: fewer rounds, one run per batch. */
  slow: boolean;
}

const CASES: readonly GrowthCase[] = [
  { name: 'cgi-grow 1 MiB', file: CGI_GROW, options: { env: { QUERY_STRING: '1' } }, snapshot: null, slow: false },
  { name: 'cgi-grow 4 MiB', file: CGI_GROW, options: { env: { QUERY_STRING: '4' } }, snapshot: null, slow: false },
  { name: 'sqlite snapshot, point query', file: SQLITE, options: { stdin: POINT_QUERY }, snapshot: 'cowpool_init', slow: false },
  { name: 'sqlite 1,000 rows per run', file: SQLITE, options: { env: { SQLITE_ROWS: '1000' }, stdin: POINT_QUERY }, snapshot: null, slow: false },
  { name: 'sqlite no snapshot, point query', file: SQLITE, options: { stdin: POINT_QUERY }, snapshot: null, slow: true },
];

/** The pooled columns: one `cow` pool per growth mode. */
const GROWTH_MODES = ['retire', 'virtual'] as const;
type GrowthMode = (typeof GROWTH_MODES)[number];

export interface GrowthBenchRow {
  case: string;
  /** The module's path in the repository. */
  module: string;
  moduleBytes: number;
  snapshot: boolean;
  rounds: number;
  batch: number;
  /** Median µs per run. */
  plainUs: number;
  retireUs: number;
  virtualUs: number;
  /** plainUs / virtualUs: how many times faster the pool with virtual sizes is than a new instance. */
  virtualVsPlain: number;
  /** retireUs / virtualUs: what keeping the slot saves over retiring its memory. */
  virtualVsRetire: number;
  /** Memories the pool retired per timed run (stats().retired), per growth mode. */
  retiredPerRun: Record<GrowthMode, number>;
  /** prepared.growth of the pool asked for 'virtual': mode 'retire' and a reason when the virtual size was refused. */
  virtualGrowth: { mode: GrowthMode; reason: string | null };
}

export type GrowthSection =
  | { status: 'measured'; rounds: number; batch: number; rows: GrowthBenchRow[] }
  | { status: 'skipped'; reason: string };

/** Every order of 0 .. n-1, n! of them. */
export function permutations(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  return permutations(n - 1).flatMap((order) => Array.from({ length: n }, (_, at) => [...order.slice(0, at), n - 1, ...order.slice(at)]));
}

/** µs per call of `run`, timed over `batch` calls. */
function timeBatch(run: () => void, batch: number): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) run();
  return Number(process.hrtime.bigint() - t) / 1000 / batch;
}

function sameOutput(a: WasiResult, b: WasiResult): boolean {
  return a.exitCode === b.exitCode && Buffer.compare(a.stdout, b.stdout) === 0;
}

interface PooledColumn {
  mode: GrowthMode;
  pool: InstancePool;
  prepared: PreparedModule;
  times: number[];
  /** stats().retired when the timed rounds began. */
  retiredBefore: number;
}

async function measureCase(c: GrowthCase, file: string, rounds: number, batch: number): Promise<GrowthBenchRow> {
  const bytes = readFileSync(file);
  const pools: InstancePool[] = [];
  try {
    const initialize = () => (c.snapshot === null ? {} : { initialize: wasiReactorInitializer(c.snapshot) });
    let plainSource: WebAssembly.Module = new WebAssembly.Module(bytes);
    if (c.snapshot !== null) {
      // Plain runs the snapshot module (the image after the initializer), a new instance per run.
      const fresh = createPool({ strategy: 'fresh' });
      pools.push(fresh);
      plainSource = (await fresh.prepare(bytes, { name: c.name, ...initialize() })).module;
    }
    const columns: PooledColumn[] = [];
    for (const mode of GROWTH_MODES) {
      const pool = createPool({ strategy: 'cow', limits: { maxSlots: 2 } });
      pools.push(pool);
      columns.push({ mode, pool, prepared: await pool.prepare(bytes, { name: c.name, growth: mode, ...initialize() }), times: [], retiredBefore: 0 });
    }
    // Plain reuses one host across runs (as the wasi section does); pool.runWasi makes its host once per slot.
    const plainOptions: RunWasiOptions = { ...c.options, host: new WasiHost() };
    const plain = () => runWasi(plainSource, plainOptions);
    const pooled = (column: PooledColumn) => () => column.pool.runWasi(column.prepared, c.options);

    const expected = plain();
    if (expected.exitCode !== 0) {
      throw new Error(`growth bench: ${c.name} exited with ${expected.exitCode} plain: ${Buffer.from(expected.stderr).toString('utf8').slice(0, 200)}`);
    }
    for (const column of columns) {
      // Twice: the second tenant runs in a slot reset after the first one grew.
      for (let i = 0; i < 2; i++) {
        if (!sameOutput(pooled(column)(), expected)) {
          throw new Error(`growth bench: ${c.name} printed something else pooled (growth '${column.mode}', run ${i + 1}) than plain`);
        }
      }
    }

    const plainTimes: number[] = [];
    const subjects: { run: () => unknown; times: number[] }[] = [
      { run: plain, times: plainTimes },
      ...columns.map((column) => ({ run: pooled(column), times: column.times })),
    ];
    for (const column of columns) column.retiredBefore = column.pool.stats().retired;
    // Interleaved: a machine that slows down slows every column alike. The order changes every
    // round (all orders in turn): a pooled batch run right after plain's is measurably slower, and a
    // fixed order would put that on one growth mode only.
    const orders = permutations(subjects.length);
    for (let r = 0; r < rounds; r++) {
      for (const index of orders[r % orders.length] as number[]) {
        const subject = subjects[index] as (typeof subjects)[number];
        subject.times.push(timeBatch(subject.run, batch));
      }
    }
    const runs = rounds * batch;
    const retiredPerRun = (column: PooledColumn) => (column.pool.stats().retired - column.retiredBefore) / runs;
    const [retire, virtual] = columns as [PooledColumn, PooledColumn];
    const plainUs = median(plainTimes);
    const retireUs = median(retire.times);
    const virtualUs = median(virtual.times);
    return {
      case: c.name,
      module: c.file,
      moduleBytes: bytes.length,
      snapshot: c.snapshot !== null,
      rounds,
      batch,
      plainUs,
      retireUs,
      virtualUs,
      virtualVsPlain: plainUs / virtualUs,
      virtualVsRetire: retireUs / virtualUs,
      retiredPerRun: { retire: retiredPerRun(retire), virtual: retiredPerRun(virtual) },
      virtualGrowth: virtual.prepared.growth,
    };
  } finally {
    for (const pool of pools) pool.close();
  }
}

/** Rounds of the slow case for `rounds` of the fast ones (at least one). */
export function slowRounds(rounds: number): number {
  return Math.max(1, Math.ceil(rounds / SLOW_ROUND_DIVISOR));
}

/**
 * Measures every case; `root` is where test/fixtures and examples are looked
 * for (the repository by default). Skipped when a module is not there.
 */
export async function measureGrowthSection(rounds: number, batch = GROWTH_BATCH, root: URL = REPOSITORY): Promise<GrowthSection> {
  const path = (file: string) => fileURLToPath(new URL(file, root));
  const missing = [...new Set(CASES.map((c) => c.file))].filter((file) => !existsSync(path(file)));
  if (missing.length > 0) {
    return { status: 'skipped', reason: `no ${missing.join(' or ')} under ${path('.')} (they ship with the repository, not the package)` };
  }
  const rows: GrowthBenchRow[] = [];
  for (const c of CASES) rows.push(await measureCase(c, path(c.file), c.slow ? slowRounds(rounds) : rounds, c.slow ? 1 : batch));
  return { status: 'measured', rounds, batch, rows };
}

function retiredCell(perRun: number): string {
  return perRun === 0 ? '0' : perRun.toFixed(2);
}

/** The section as rows of cells: header first. */
export function growthSectionCells(section: Extract<GrowthSection, { status: 'measured' }>): string[][] {
  return [
    ['run', 'plain (new instance)', 'pooled cow, retire', 'pooled cow, virtual', 'virtual vs plain', 'virtual vs retire', 'retired/run: retire', 'retired/run: virtual'],
    ...section.rows.map((r) => [
      r.case + (r.virtualGrowth.mode === 'virtual' ? '' : ` (virtual refused: ${r.virtualGrowth.reason ?? 'no reason given'})`),
      formatTime(r.plainUs),
      formatTime(r.retireUs),
      formatTime(r.virtualUs),
      formatRatio(r.virtualVsPlain),
      formatRatio(r.virtualVsRetire),
      retiredCell(r.retiredPerRun.retire),
      retiredCell(r.retiredPerRun.virtual),
    ]),
  ];
}

export function growthSectionTitle(section: Extract<GrowthSection, { status: 'measured' }>): string {
  const slow = section.rows.find((r) => r.batch === 1);
  return `Memories that grow per request — median per WASI run (instantiate + _start + output), ${section.rounds} interleaved rounds of ${section.batch} runs, the subjects in a new order each round`
    + (slow === undefined ? '' : ` (${slow.case}: ${slow.rounds} rounds of 1)`)
    + '; plain instantiates the module (the snapshot module for the snapshot case) per run; retired/run = memories stats().retired counted per timed run';
}
