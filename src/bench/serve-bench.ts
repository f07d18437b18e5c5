/**
 * `cowpool bench serve`: requests per second and latency of cowpool serve
 * against the servers people would otherwise run, side by side in one run,
 * load from autocannon on loopback:
 *
 *   cowpool (1 worker, N workers)   cowpool serve, a fresh pooled instance per request
 *   cowpool reuse (1, N workers)    the same with --strategy reuse: one instance per slot, rewound
 *   naive                           node:http + a new plain V8 instance per request
 *   node-wasi                       node:http + node:wasi, a new instance per request
 *   floor                           the same HTTP server answering without WebAssembly
 *
 * Every server runs in its own child process; each subject gets the same
 * warm-up and the same measured window. Ratios are against `naive` and the
 * `floor` of the same run. On Linux each row also says where the CPU went
 * per request over the measured window, thread by thread (from
 * /proc/PID/task/TID/stat): the server's HTTP thread, its worker threads, V8's
 * platform threads (garbage collection, compilation), and this process,
 * the load generator: on a box with few cores, what one subject can reach is
 * bounded by their sum.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CowpoolError } from '../errors.js';
import { endedHow, startServerProcess } from '../serve/serve-process.js';

export interface ServeBenchOptions {
  /** The handler every subject runs (a WASI CGI command). */
  readonly module: string;
  /** Measured seconds per subject. */
  readonly durationSeconds: number;
  /** Warm-up seconds per subject (not measured). */
  readonly warmupSeconds: number;
  readonly connections: number;
  /** cowpool serve only: an export run once per worker; requests start from its snapshot. */
  readonly initialize?: string;
  /** The request body every request sends (e.g. SQL for the SQLite endpoint). */
  readonly body?: string;
  /** Worker counts for cowpool serve. Default [1, cores]. */
  readonly workers?: readonly number[];
  readonly progress?: (line: string) => void;
}

export interface ServeBenchRow {
  readonly subject: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses other than 2xx (should be 0). */
  readonly non2xx: number;
  readonly errors: number;
  /** Set when the server died during its run (Node 20's node:wasi crashes under load), with how. */
  readonly crashed?: string;
  /** CPU µs per request over the measured window (Linux), when it could be read. */
  readonly cpu?: ServeBenchCpu;
}

/**
 * CPU microseconds per request, by thread. Threads are told apart by the
 * names Node gives them (22 and later); under a Node that names them all
 * alike, everything but the HTTP thread counts as `other`.
 */
export interface ServeBenchCpu {
  /** The server's main thread: HTTP, routing, handing jobs to workers. */
  readonly httpThread: number;
  /** Worker threads (cowpool serve's request workers). */
  readonly workers: number;
  /** V8's platform threads: concurrent garbage collection and compilation. */
  readonly v8Platform: number;
  /** Every other thread of the server. */
  readonly other: number;
  /** This process: autocannon. */
  readonly loadGenerator: number;
}

type ThreadKind = 'httpThread' | 'workers' | 'v8Platform' | 'other';

/** CPU µs used so far by each thread of `pid`, by kind; null when /proc cannot be read. */
function threadCpu(pid: number): Record<ThreadKind, number> | null {
  const out: Record<ThreadKind, number> = { httpThread: 0, workers: 0, v8Platform: 0, other: 0 };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after the name: state is field 3; utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const micros = (Number(fields[11]) + Number(fields[12])) * 10_000;
      const kind: ThreadKind = tid === String(pid) ? 'httpThread' : name === 'WorkerThread' ? 'workers' : name === 'V8Worker' ? 'v8Platform' : 'other';
      out[kind] += micros;
    }
    return out;
  } catch {
    return null;
  }
}

export interface ServeBenchReport {
  readonly module: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly rows: readonly ServeBenchRow[];
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

async function loadAutocannon(): Promise<Autocannon> {
  try {
    const mod = (await import('autocannon' as string)) as { default: Autocannon };
    return mod.default;
  } catch (cause) {
    throw new CowpoolError('NATIVE_UNAVAILABLE', 'cowpool bench serve needs the autocannon package (npm install --save-dev autocannon)', { cause });
  }
}

const BIN = fileURLToPath(new URL('../../bin/cowpool.js', import.meta.url));
// The compiled entry, also when this file runs from src/ (tests): a child process runs plain JavaScript.
const NAIVE = fileURLToPath(new URL('../../dist/bench/naive-server.js', import.meta.url));

async function stopChild(child: ChildProcess): Promise<void> {
  // A child killed by a signal has a null exitCode: check both, or this would wait forever.
  if (endedHow(child) !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function runServeBench(options: ServeBenchOptions): Promise<ServeBenchReport> {
  const autocannon = await loadAutocannon();
  const workers = options.workers ?? [...new Set([1, availableParallelism()])];
  const subjects: { name: string; args: string[] }[] = [
    { name: 'floor', args: [NAIVE, 'floor', options.module] },
    { name: 'naive', args: [NAIVE, 'naive', options.module] },
    { name: 'node-wasi', args: [NAIVE, 'node-wasi', options.module] },
    // With a snapshot, the same server without it shows what the snapshot saves.
    ...(options.initialize === undefined ? [] : [{
      name: 'cowpool (1 worker, no snapshot)',
      args: [BIN, 'serve', options.module, '--port', '0', '--workers', '1', '--deadline-ms', '10000'],
    }]),
    ...workers.map((n) => ({
      name: `cowpool (${n} worker${n === 1 ? '' : 's'})`,
      args: [BIN, 'serve', options.module, '--port', '0', '--workers', String(n), '--deadline-ms', '10000',
        ...(options.initialize === undefined ? [] : ['--initialize', options.initialize])],
    })),
    // The reuse strategy: one instance per slot, rewound after each request (modules it can rewind exactly).
    ...workers.map((n) => ({
      name: `cowpool reuse (${n} worker${n === 1 ? '' : 's'})`,
      args: [BIN, 'serve', options.module, '--port', '0', '--workers', String(n), '--deadline-ms', '10000', '--strategy', 'reuse',
        ...(options.initialize === undefined ? [] : ['--initialize', options.initialize])],
    })),
  ];
  const rows: ServeBenchRow[] = [];
  // Servers log to files here, not through this process: it runs the load generator.
  const logs = mkdtempSync(join(tmpdir(), 'cowpool-bench-serve-'));
  try {
    for (const [i, subject] of subjects.entries()) {
      options.progress?.(`serve bench: ${subject.name}`);
      const { child, url, stderr } = await startServerProcess(subject.args, 60_000, join(logs, `${i}.log`));
      try {
        const load = {
          url: `${url}/?1234`,
          connections: options.connections,
          headers: { 'x-secret': 'bench' },
          ...(options.body === undefined ? {} : { method: 'POST', body: options.body }),
        };
        if (options.warmupSeconds > 0) await autocannon({ ...load, duration: options.warmupSeconds });
        const before = child.pid === undefined ? null : threadCpu(child.pid);
        const ownBefore = process.cpuUsage();
        const r = await autocannon({ ...load, duration: options.durationSeconds });
        const own = process.cpuUsage(ownBefore);
        const after = child.pid === undefined ? null : threadCpu(child.pid);
        const how = endedHow(child);
        const requests = r.requests.total;
        rows.push({
          subject: subject.name,
          requestsPerSecond: r.requests.average,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
          ...(how === null ? {} : { crashed: how }),
          ...(before === null || after === null || requests === 0 ? {} : {
            cpu: {
              httpThread: (after.httpThread - before.httpThread) / requests,
              workers: (after.workers - before.workers) / requests,
              v8Platform: (after.v8Platform - before.v8Platform) / requests,
              other: (after.other - before.other) / requests,
              loadGenerator: (own.user + own.system) / requests,
            },
          }),
        });
        if (how !== null) {
          const last = stderr().trimEnd().split('\n').slice(-3).join(' | ');
          options.progress?.(`serve bench: ${subject.name} ${how} during its run; its row counts what it answered before (last log lines: ${last})`);
        }
      } finally {
        await stopChild(child);
      }
    }
  } finally {
    rmSync(logs, { recursive: true, force: true });
  }
  return { module: options.module, connections: options.connections, durationSeconds: options.durationSeconds, rows };
}

/** The report as a Markdown table with each subject's ratio to naive and share of the floor. */
export function serveBenchTable(report: ServeBenchReport): string {
  const naive = report.rows.find((r) => r.subject === 'naive')?.requestsPerSecond ?? Number.NaN;
  const floor = report.rows.find((r) => r.subject === 'floor')?.requestsPerSecond ?? Number.NaN;
  const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const lines = [
    '| server | req/s | p50 ms | p99 ms | × naive | % of floor | non-2xx |',
    '|:---|---:|---:|---:|---:|---:|---:|',
    ...report.rows.map((r) => `| ${r.subject}${r.crashed === undefined ? '' : ` (server ${r.crashed} during the run)`} | ${fmt(r.requestsPerSecond, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.requestsPerSecond / naive)}× | ${fmt((100 * r.requestsPerSecond) / floor, 0)}% | ${r.non2xx + r.errors} |`),
  ];
  const withCpu = report.rows.filter((r) => r.cpu !== undefined);
  if (withCpu.length > 0) {
    lines.push(
      '',
      'CPU µs per request, by thread (measured window):',
      '',
      '| server | HTTP thread | workers | V8 platform | other | load generator | total |',
      '|:---|---:|---:|---:|---:|---:|---:|',
      ...withCpu.map((r) => {
        const c = r.cpu as ServeBenchCpu;
        return `| ${r.subject} | ${fmt(c.httpThread, 1)} | ${fmt(c.workers, 1)} | ${fmt(c.v8Platform, 1)} | ${fmt(c.other, 1)} | ${fmt(c.loadGenerator, 1)} | ${fmt(c.httpThread + c.workers + c.v8Platform + c.other + c.loadGenerator, 1)} |`;
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}
