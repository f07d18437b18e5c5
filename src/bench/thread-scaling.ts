/**
 * The thread section: N worker threads repeat the same scenario at once,
 * each with its own pool, and the total throughput is compared with one
 * thread's. Workers run compiled code (dist/bench/thread-worker.js): when
 * the bench itself runs from TypeScript sources and nothing is compiled, the
 * section is skipped with a note instead of failing the run.
 *
 * Per subject, max(counts) workers are started and warmed up once; each
 * measurement is then a round in which the first N of them run together.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CowpoolError } from '../errors.js';
import type { BenchScenario } from './bench-config-schema.js';
import { withScaling, type ThreadRow, type ThreadSection } from './bench-results.js';
import type { SubjectModule, SubjectSpec } from './bench-subjects.js';
import type { CoordinatorMessage, ThreadWorkerData, WorkerMessage } from './thread-protocol.js';

/** The compiled worker: next to this file when it is compiled, else in the package's dist/. */
export function threadWorkerPath(): string | null {
  const candidates = [new URL('./thread-worker.js', import.meta.url), new URL('../../dist/bench/thread-worker.js', import.meta.url)];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * A worker whose messages are read one at a time, in order.
 *
 *   worker ──message──► #queue ──next()──► caller      (message first)
 *   worker ──message──────────────────────► #waiting   (caller first)
 *
 * Invariant: `#queue` and `#waiting` are never both non-empty.
 * Invariant: `#failure` is set once (error or exit) and rejects every later next().
 * Invariant: `#terminated` is true after terminate(); nothing is sent after it.
 */
class WorkerChannel {
  readonly #worker: Worker;
  readonly #queue: WorkerMessage[] = [];
  readonly #waiting: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | null = null;
  #terminated = false;

  constructor(path: string, data: ThreadWorkerData) {
    this.#worker = new Worker(path, { workerData: data });
    this.#worker.on('message', (m: WorkerMessage) => {
      const next = this.#waiting.shift();
      if (next === undefined) this.#queue.push(m);
      else next.resolve(m);
    });
    const fail = (e: Error) => {
      this.#failure ??= e;
      for (const w of this.#waiting.splice(0)) w.reject(e);
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the worker exited (code ${code})`)));
  }

  next(): Promise<WorkerMessage> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** The next message, which must be of `type`; a `failed` message or another type throws. */
  async expect<T extends WorkerMessage['type']>(type: T): Promise<Extract<WorkerMessage, { type: T }>> {
    const m = await this.next();
    if (m.type === 'failed') throw new Error(m.message);
    if (m.type !== type) throw new Error(`expected a ${type} message from the worker, got ${m.type}`);
    return m as Extract<WorkerMessage, { type: T }>;
  }

  send(message: CoordinatorMessage): void {
    if (this.#terminated) throw new CowpoolError('SLOT_STATE', 'bench worker: send() after terminate()');
    this.#worker.postMessage(message);
  }

  async terminate(): Promise<void> {
    this.#terminated = true;
    await this.#worker.terminate();
  }
}

export interface ThreadScalingRequest {
  module: SubjectModule;
  scenario: BenchScenario;
  specs: readonly SubjectSpec[];
  counts: readonly number[];
  /** Milliseconds of one measurement (one subject, one count), split over the rounds. */
  timeMs: number;
  /** Passes over every subject × count; the round with the median total is kept. Default 1. */
  rounds?: number;
  /** Called after each measurement (for progress). */
  onRound?: (label: string, result: string) => void;
}

interface RoundResult {
  opsPerSec: number;
  perThread: number[];
}

/** One subject's workers, the word that starts their rounds, and what they measured. */
interface SubjectGroup {
  spec: SubjectSpec;
  workers: WorkerChannel[];
  flag: Int32Array;
  round: number;
  failure: string | null;
  results: Map<number, RoundResult[]>;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first `n` workers of `group` run the operation together for `timeMs`. */
async function runTogether(group: SubjectGroup, n: number, timeMs: number): Promise<RoundResult> {
  group.round++;
  const active = group.workers.slice(0, n);
  const message: CoordinatorMessage = { type: 'run', round: group.round, timeMs };
  for (const w of active) w.send(message);
  await Promise.all(active.map((w) => w.expect('armed')));
  Atomics.store(group.flag, 0, group.round);
  Atomics.notify(group.flag, 0);
  const done = await Promise.all(active.map((w) => w.expect('done')));
  const perThread = done.map((d) => (d.elapsedMs > 0 ? (d.ops * 1000) / d.elapsedMs : 0));
  return { opsPerSec: perThread.reduce((a, b) => a + b, 0), perThread };
}

/** The result with the median total (the lower middle one for an even count). */
function medianResult(results: readonly RoundResult[]): RoundResult {
  const sorted = [...results].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)] as RoundResult;
}

/**
 * Measures every subject at every thread count; see the file comment.
 * Rounds interleave the subjects (round 1 of each, then round 2 of each,
 * ...) so a machine that speeds up or slows down during the section does
 * not favour one subject.
 */
export async function measureThreadScaling(request: ThreadScalingRequest): Promise<ThreadSection> {
  const path = threadWorkerPath();
  if (path === null) {
    return {
      status: 'skipped',
      reason: 'worker threads run the compiled package and dist/bench/thread-worker.js is missing — build it with `npm run build`',
    };
  }
  const counts = request.counts;
  const rounds = Math.max(1, request.rounds ?? 1);
  const timeMs = Math.max(1, request.timeMs / rounds);
  const max = Math.max(...counts);
  const warmupMs = Math.min(100, Math.max(10, request.timeMs / 4));
  const groups: SubjectGroup[] = request.specs.map((spec) => {
    const control = new SharedArrayBuffer(4);
    const data = { module: request.module, spec, scenario: request.scenario, warmupMs, control };
    return {
      spec,
      workers: Array.from({ length: max }, () => new WorkerChannel(path, data)),
      flag: new Int32Array(control),
      round: 0,
      failure: null,
      results: new Map(),
    };
  });
  try {
    await Promise.all(groups.map(async (g) => {
      try {
        await Promise.all(g.workers.map((w) => w.expect('ready')));
      } catch (e) {
        g.failure = messageOf(e);
      }
    }));
    for (let r = 0; r < rounds; r++) {
      for (const g of groups) {
        for (const n of counts) {
          const label = `threads · ${g.spec.name} × ${n}${rounds > 1 ? ` (round ${r + 1}/${rounds})` : ''}`;
          if (g.failure !== null) {
            request.onRound?.(label, `unavailable: ${g.failure}`);
            continue;
          }
          try {
            const result = await runTogether(g, n, timeMs);
            g.results.set(n, [...(g.results.get(n) ?? []), result]);
            request.onRound?.(label, `${Math.round(result.opsPerSec)} ops/s`);
          } catch (e) {
            g.failure = messageOf(e);
            request.onRound?.(label, `unavailable: ${g.failure}`);
          }
        }
      }
    }
  } finally {
    await Promise.all(groups.flatMap((g) => g.workers.map((w) => w.terminate())));
  }
  const rows: Omit<ThreadRow, 'scaling'>[] = groups.flatMap((g) =>
    counts.map((n): Omit<ThreadRow, 'scaling'> => {
      if (g.failure !== null) return { subject: g.spec.name, threads: n, status: 'unavailable', opsPerSec: 0, perThreadOpsPerSec: [], reason: g.failure };
      const best = medianResult(g.results.get(n) ?? []);
      return { subject: g.spec.name, threads: n, status: 'measured', opsPerSec: best.opsPerSec, perThreadOpsPerSec: best.perThread };
    }));
  return {
    status: 'measured',
    module: request.module.name,
    scenario: request.scenario,
    timeMs: request.timeMs,
    rounds,
    counts: [...counts],
    rows: withScaling(rows),
  };
}
