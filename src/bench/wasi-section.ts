/**
 * The "wasi" bench section: what one run of a WASI command costs, measured
 * side by side in one process and one run:
 *
 *   plain      cowpool's WASI host, a new V8 instance per run (runWasi)
 *   pooled     the same host, a fresh instance from a `cow` pool per run (runWasiInPool)
 *   node:wasi  Node's built-in WASI, a new instance per run, stdio through files
 *
 * Modules: the corpus's `data-1mib` (a 1 MiB data image; the goal is pooled
 * ≥ 5× plain) and two small ones (`args`, `echo` with stdin). They are read
 * from the repository's test/fixtures/wasi; an installed package has none and
 * the section is skipped with that reason.
 *
 * node:wasi runs in a child process, at most NODE_WASI_RUNS instances: Node
 * 20's node:wasi crashed after ~150 instances in one process (DESIGN.md). Its
 * median therefore comes from fewer runs than the other two columns.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPool } from '../pool/instance-pool.js';
import { runWasiInPool } from '../host/pool-run-wasi.js';
import { runWasi } from '../host/run-wasi.js';
import { WasiHost } from '../host/wasi-host.js';
import { median } from '../util/statistics.js';
import { formatRatio, formatTime } from './report-format.js';

/** node:wasi instances per child process (well under the ~150 that crashed Node 20). */
export const NODE_WASI_RUNS = 100;

const CORPUS = fileURLToPath(new URL('../../test/fixtures/wasi/', import.meta.url));

interface WasiBenchModule {
  name: string;
  args: string[];
  stdin: string;
}

const MODULES: readonly WasiBenchModule[] = [
  { name: 'data-1mib', args: ['data-1mib', '12345'], stdin: '' },
  { name: 'args', args: ['args', 'one', 'two'], stdin: '' },
  { name: 'echo', args: ['echo'], stdin: 'a line of input for the guest\n'.repeat(8) },
];

export interface WasiBenchRow {
  module: string;
  moduleBytes: number;
  /** Median µs per run. */
  plainUs: number;
  pooledUs: number;
  /** null when the node:wasi child failed (`nodeWasiError` says why). */
  nodeWasiUs: number | null;
  nodeWasiRuns: number;
  nodeWasiError?: string;
  /** plainUs / pooledUs: how many times faster the pool is. */
  pooledVsPlain: number;
  /** nodeWasiUs / pooledUs. */
  pooledVsNodeWasi: number | null;
  /** nodeWasiUs / plainUs. */
  plainVsNodeWasi: number | null;
}

export type WasiSection =
  | { status: 'measured'; rounds: number; batch: number; rows: WasiBenchRow[] }
  | { status: 'skipped'; reason: string };

/** The node:wasi side: NODE_WASI_RUNS runs in a child, fresh stdio files each run; prints median µs. */
const NODE_WASI_CHILD = `
const { WASI } = require('node:wasi');
const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const [file, runs, argsJson, stdin] = process.argv.slice(1);
const module = new WebAssembly.Module(fs.readFileSync(file));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cowpool-bench-wasi-'));
const input = path.join(dir, 'in'); fs.writeFileSync(input, stdin);
const times = [];
try {
  for (let i = 0; i < Number(runs); i++) {
    const t = process.hrtime.bigint();
    const fds = [fs.openSync(input, 'r'), fs.openSync(path.join(dir, 'out'), 'w'), fs.openSync(path.join(dir, 'err'), 'w')];
    const wasi = new WASI({ version: 'preview1', args: JSON.parse(argsJson), env: {}, stdin: fds[0], stdout: fds[1], stderr: fds[2], returnOnExit: true });
    wasi.start(new WebAssembly.Instance(module, wasi.getImportObject()));
    for (const fd of fds) fs.closeSync(fd);
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
} finally { fs.rmSync(dir, { recursive: true, force: true }); }
times.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ medianUs: times[Math.floor(times.length / 2)] }));
`;

function measureNodeWasi(file: string, module: WasiBenchModule, runs: number): { medianUs: number } | { error: string } {
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', NODE_WASI_CHILD, file, String(runs), JSON.stringify(module.args), module.stdin], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) return { error: `node:wasi child ended with ${r.signal ?? `status ${r.status}`}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  return JSON.parse(r.stdout) as { medianUs: number };
}

/** µs per call of `run`, timed over `batch` calls. */
function timeBatch(run: () => void, batch: number): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) run();
  return Number(process.hrtime.bigint() - t) / 1000 / batch;
}

export async function measureWasiSection(rounds: number, batch = 5): Promise<WasiSection> {
  if (!existsSync(CORPUS)) return { status: 'skipped', reason: `no WASI corpus at ${CORPUS} (it ships with the repository, not the package)` };
  const rows: WasiBenchRow[] = [];
  for (const module of MODULES) {
    const file = `${CORPUS}${module.name}.wasm`;
    const bytes = readFileSync(file);
    const compiled = new WebAssembly.Module(bytes);
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 2 } });
    try {
      const prepared = await pool.prepare(bytes, { name: module.name });
      const host = new WasiHost();
      const options = { host, args: module.args, stdin: module.stdin };
      const expected = runWasi(compiled, options);
      const check = runWasiInPool(pool, prepared, options);
      if (check.exitCode !== expected.exitCode || Buffer.compare(check.stdout, expected.stdout) !== 0) {
        throw new Error(`wasi bench: ${module.name} printed something else pooled than plain`);
      }
      const plain: number[] = [];
      const pooled: number[] = [];
      // Interleaved: a machine that slows down slows both alike.
      for (let r = 0; r < rounds; r++) {
        plain.push(timeBatch(() => runWasi(compiled, options), batch));
        pooled.push(timeBatch(() => runWasiInPool(pool, prepared, options), batch));
      }
      const runs = Math.min(NODE_WASI_RUNS, rounds * batch);
      const node = measureNodeWasi(file, module, runs);
      const plainUs = median(plain);
      const pooledUs = median(pooled);
      const nodeWasiUs = 'medianUs' in node ? node.medianUs : null;
      rows.push({
        module: module.name,
        moduleBytes: bytes.length,
        plainUs,
        pooledUs,
        nodeWasiUs,
        nodeWasiRuns: runs,
        ...('error' in node ? { nodeWasiError: node.error } : {}),
        pooledVsPlain: plainUs / pooledUs,
        pooledVsNodeWasi: nodeWasiUs === null ? null : nodeWasiUs / pooledUs,
        plainVsNodeWasi: nodeWasiUs === null ? null : nodeWasiUs / plainUs,
      });
    } finally {
      pool.close();
    }
  }
  return { status: 'measured', rounds, batch, rows };
}

/** The section as rows of cells: header first. */
export function wasiSectionCells(section: Extract<WasiSection, { status: 'measured' }>): string[][] {
  return [
    ['module', 'node:wasi', 'plain (cowpool host)', 'pooled cow', 'pooled vs plain', 'pooled vs node:wasi'],
    ...section.rows.map((r) => [
      `${r.module} (${Math.round(r.moduleBytes / 1024)} KiB)`,
      r.nodeWasiUs === null ? `unavailable: ${r.nodeWasiError ?? ''}` : formatTime(r.nodeWasiUs),
      formatTime(r.plainUs),
      formatTime(r.pooledUs),
      formatRatio(r.pooledVsPlain),
      formatRatio(r.pooledVsNodeWasi),
    ]),
  ];
}

export function wasiSectionTitle(section: Extract<WasiSection, { status: 'measured' }>): string {
  return `WASI commands — median per run (instantiate + _start + output), ${section.rounds} interleaved rounds of ${section.batch} runs; node:wasi in a child process, ${section.rows[0]?.nodeWasiRuns ?? 0} runs, stdio through files`;
}
