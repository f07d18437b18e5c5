/**
 * A `cowpool serve` worker thread: its own instance pool (images are shared
 * process-wide by content), one prepared module per route, one WASI host
 * made once and pointed at each request's tenant. One request at a time:
 *
 *   job (a slot of the worker's job ring) ─► runWasiInPool(pool, route's
 *       module, { args, env, stdin, caps }) ─► fresh pooled instance,
 *       _start, slot reset on release ─► result (into the same slot)
 *
 * Nothing of one request outlives it here: the lease is released (its
 * memory reset) before the result is written, and the host's per-run state
 * is dropped with the run.
 */
import { wasiReactorInitializer } from '../host/wasi-reactor-initializer.js';
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { isCowpoolError } from '../errors.js';
import { runWasiInPool } from '../host/pool-run-wasi.js';
import { WasiHost } from '../host/wasi-host.js';
import { createPool, type InstancePool, type PoolStats } from '../pool/instance-pool.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { jobWorkerData, postReport, postStartFailure, serveJobs } from './job-loop.js';
import { decodeServeJob, encodeServeResult, serveResultBytes, type ServeResult, type ServeWorkerData, type ServeWorkerReport } from './serve-protocol.js';

const data = jobWorkerData() as ServeWorkerData;

/** The pool statistics the metrics endpoint shows, as flat numbers. */
function flatStats(s: PoolStats): Record<string, number> {
  const out: Record<string, number> = {
    slots_total: s.slots.total,
    leases_active: s.leases.active,
    leases_acquired: s.leases.acquired,
    affinity_hits: s.affinity.hits,
    retired: s.retired,
    reset_failures: s.resetFailures,
    exhausted: s.exhausted,
  };
  for (const [state, n] of Object.entries(s.slots.byState)) out[`slots_${state}`] = n;
  for (const [reason, n] of Object.entries(s.fallbacks)) out[`fallbacks_${reason.replace(/-/g, '_')}`] = n ?? 0;
  return out;
}

interface Route {
  readonly pool: InstancePool;
  readonly prepared: PreparedModule;
  readonly args: readonly string[];
}

/**
 * One pool per memory cap: a route's `maxMemoryBytes` becomes its pool's
 * limits.maxMemoryBytesPerSlot, which clamps the maximum of every memory the
 * pool hands out (a memory.grow past it fails inside the module). A module
 * the pool cannot serve from its slots would run with its own maximum, so a
 * capped route refuses it at start.
 */
async function start(): Promise<{ pools: InstancePool[]; routes: Route[] }> {
  const base = (data.pool ?? {}) as Parameters<typeof createPool>[0] & { limits?: Record<string, unknown> };
  const pools = new Map<number | 'default', InstancePool>();
  const poolFor = (cap: number | undefined): InstancePool => {
    const key = cap ?? 'default';
    let pool = pools.get(key);
    if (pool === undefined) {
      pool = createPool(cap === undefined ? base : { ...base, limits: { ...(base.limits ?? {}), maxMemoryBytesPerSlot: cap } });
      pools.set(key, pool);
    }
    return pool;
  };
  const routes: Route[] = [];
  for (const route of data.routes) {
    const pool = poolFor(route.maxMemoryBytes);
    const bytes = readFileSync(route.module);
    const prepared = route.initialize === undefined
      ? await pool.prepare(bytes, { name: route.module })
      : await pool.prepare(bytes, { name: route.module, initialize: wasiReactorInitializer(route.initialize) });
    if (route.maxMemoryBytes !== undefined && !prepared.pooled) {
      throw new Error(`${route.module}: maxMemoryBytes cannot be enforced: the module is served by plain instantiation (${prepared.fallbackReason}: ${prepared.fallbackDetail})`);
    }
    routes.push({ pool, prepared, args: route.args });
  }
  return { pools: [...pools.values()], routes };
}

/** How often a worker reports its statistics (pool.stats() walks every slot). */
const STATS_EVERY_MS = 250;
let statsAt = -Infinity;

/** After a request: statistics summed over the worker's pools, posted at most every STATS_EVERY_MS. */
function reportStats(pools: readonly InstancePool[]): void {
  const now = performance.now();
  if (now - statsAt < STATS_EVERY_MS) return;
  const sum: Record<string, number> = {};
  for (const pool of pools) for (const [k, v] of Object.entries(flatStats(pool.stats()))) sum[k] = (sum[k] ?? 0) + v;
  statsAt = now;
  const report: ServeWorkerReport = { worker: threadId, stats: sum };
  postReport(report);
}

const host = new WasiHost();
const empty = new Uint8Array(0);

/** One request: decode, run on a fresh pooled instance, encode the result into the ring slot (or, too large for it, into bytes of its own). */
function handle(routes: readonly Route[], request: Uint8Array, response: Uint8Array): number | Uint8Array {
  let result: ServeResult;
  try {
    const job = decodeServeJob(request);
    const route = routes[job.route];
    if (route === undefined) throw new Error(`no route ${job.route}`);
    const r = runWasiInPool(route.pool, route.prepared, {
      host,
      args: route.args,
      env: job.env,
      stdin: job.stdin,
      stdoutCap: data.maxOutputBytes,
      stderrCap: data.maxOutputBytes,
    });
    result = { kind: 'exit', exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) result = { kind: 'trap', message: e.message, stderr: empty };
    else result = { kind: 'error', message: isCowpoolError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
  const size = serveResultBytes(result);
  if (size <= response.length) return encodeServeResult(result, response);
  const own = new Uint8Array(size);
  encodeServeResult(result, own);
  return own;
}

start().then(
  ({ pools, routes }) => {
    serveJobs((request, response) => {
      const n = handle(routes, request, response);
      reportStats(pools);
      return n;
    });
  },
  (e: unknown) => {
    postStartFailure(isCowpoolError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));
  },
);
