/**
 * The worker threads that run requests: one request per worker at a time, a
 * bounded queue in front, a deadline per request enforced from outside the
 * worker, and a warm spare that takes a stopped worker's place at once.
 *
 *   queue (≤ maxWaiting) ──► idle worker ──► busy ──► result ──► idle
 *                                              │ deadline passed / worker died
 *                                              ▼
 *                                  terminate; the spare takes its place;
 *                                  a new spare starts in the background
 *
 * A wasm loop that never returns cannot be interrupted on its own thread
 * without instrumenting the module; terminating the worker stops it (V8 stops
 * wasm on termination) and costs the worker's pool, which is why a spare is
 * kept ready: a cold worker takes tens of milliseconds to start and prepare
 * its modules.
 *
 * Invariant: a worker in `busy` has exactly one `current` job and its timer;
 *            a worker in any other state has neither.
 * Invariant: `#queue.length` ≤ maxWaiting.
 * Invariant: every job's promise settles exactly once (result, deadline,
 *            worker death, or close).
 * Invariant: `#spare` is null or a worker that is not in `#active`.
 */
import { Worker } from 'node:worker_threads';

export interface WorkerPoolOptions {
  /** The worker's entry module. */
  readonly script: URL;
  readonly workerData: unknown;
  /** Workers running requests. */
  readonly size: number;
  /** Jobs that may wait for a worker. */
  readonly maxWaiting: number;
  /** Called whenever a worker is stopped and replaced (deadline or death). */
  readonly onRestart?: (reason: 'deadline' | 'died') => void;
}

/** What a job ends as, besides the worker's own result message. */
export type JobOutcome<T> =
  | { readonly kind: 'result'; readonly value: T }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'died'; readonly reason: string }
  | { readonly kind: 'closed' };

/** The job could not even wait: the queue is full. */
export class QueueFullError extends Error {
  constructor() {
    super('every worker is busy and the queue is full');
    this.name = 'QueueFullError';
  }
}

interface Job<T> {
  readonly message: unknown;
  readonly transfer: readonly ArrayBuffer[];
  readonly deadlineMs: number;
  readonly settle: (outcome: JobOutcome<T>) => void;
}

type WorkerState = 'starting' | 'idle' | 'busy' | 'dead';

interface Member<T> {
  readonly id: number;
  readonly worker: Worker;
  state: WorkerState;
  current: Job<T> | null;
  timer: NodeJS.Timeout | null;
  ready: Promise<void>;
}

/** Messages a worker posts: `{ type: 'ready' }` once, then `{ type: 'result', value }` per job. */
interface WorkerMessage {
  readonly type: 'ready' | 'result' | 'failed';
  readonly value?: unknown;
  readonly error?: string;
}

export class RequestWorkers<T> {
  readonly #options: WorkerPoolOptions;
  readonly #active: Member<T>[] = [];
  #spare: Member<T> | null = null;
  readonly #queue: Job<T>[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    for (let i = 0; i < options.size; i++) this.#active.push(this.#start());
    this.#spare = this.#start();
  }

  /** Resolves when every active worker has started (or rejects with why one could not). */
  async ready(): Promise<void> {
    await Promise.all(this.#active.map((m) => m.ready));
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#active.filter((m) => m.state === 'busy').length;
  }

  /** Worker ids, for metrics labels. */
  get workerIds(): number[] {
    return this.#active.map((m) => m.id);
  }

  /**
   * Runs `message` on a worker within `deadlineMs` (counted from when a worker
   * takes it). Throws QueueFullError at once when it cannot wait.
   */
  run(message: unknown, deadlineMs: number, transfer: readonly ArrayBuffer[] = []): Promise<JobOutcome<T>> {
    if (this.#closed) return Promise.resolve({ kind: 'closed' });
    const idle = this.#active.find((m) => m.state === 'idle');
    if (idle === undefined && this.#queue.length >= this.#options.maxWaiting) throw new QueueFullError();
    return new Promise<JobOutcome<T>>((resolve) => {
      let settled = false;
      const job: Job<T> = {
        message,
        transfer,
        deadlineMs,
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          resolve(outcome);
        },
      };
      if (idle !== undefined) this.#dispatch(idle, job);
      else this.#queue.push(job);
    });
  }

  /**
   * Stops taking jobs; waits up to `graceMs` for queued and running jobs to
   * finish, then terminates every worker. Jobs still unfinished settle as
   * `closed`.
   */
  async close(graceMs: number): Promise<void> {
    this.#closed = true;
    const deadline = Date.now() + graceMs;
    while ((this.#queue.length > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const job of this.#queue.splice(0)) job.settle({ kind: 'closed' });
    const all = [...this.#active, ...(this.#spare === null ? [] : [this.#spare])];
    this.#spare = null;
    for (const m of all) {
      if (m.current !== null) m.current.settle({ kind: 'closed' });
      this.#clear(m);
      m.state = 'dead';
    }
    await Promise.all(all.map((m) => m.worker.terminate()));
  }

  #start(): Member<T> {
    const worker = new Worker(this.#options.script, { workerData: this.#options.workerData });
    const member: Member<T> = { id: this.#nextId++, worker, state: 'starting', current: null, timer: null, ready: Promise.resolve() };
    member.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          if (member.state !== 'starting') return;
          member.state = 'idle';
          resolve();
          this.#next(member);
        } else if (msg.type === 'failed') {
          reject(new Error(msg.error ?? 'the worker failed to start'));
        } else if (msg.type === 'result') {
          this.#finish(member, { kind: 'result', value: msg.value as T });
        }
      });
      worker.on('error', (e) => {
        if (member.state === 'starting') reject(e);
        this.#lost(member, `worker error: ${e.message}`);
      });
      worker.on('exit', (code) => {
        if (member.state === 'starting') reject(new Error(`the worker exited with code ${code} while starting`));
        this.#lost(member, `worker exited with code ${code}`);
      });
    });
    // A spare that fails to start is noticed when it is needed; never an unhandled rejection.
    member.ready.catch(() => undefined);
    return member;
  }

  #dispatch(member: Member<T>, job: Job<T>): void {
    if (member.state !== 'idle') throw new Error(`dispatch to a ${member.state} worker`);
    member.state = 'busy';
    member.current = job;
    member.timer = setTimeout(() => this.#expire(member), job.deadlineMs);
    member.worker.postMessage(job.message, job.transfer as ArrayBuffer[]);
  }

  #finish(member: Member<T>, outcome: JobOutcome<T>): void {
    if (member.state !== 'busy' || member.current === null) return;
    const job = member.current;
    this.#clear(member);
    member.state = 'idle';
    job.settle(outcome);
    this.#next(member);
  }

  #next(member: Member<T>): void {
    // The spare waits, ready, until it replaces a worker.
    if (member.state !== 'idle' || !this.#active.includes(member)) return;
    const job = this.#queue.shift();
    if (job !== undefined) this.#dispatch(member, job);
  }

  #clear(member: Member<T>): void {
    if (member.timer !== null) clearTimeout(member.timer);
    member.timer = null;
    member.current = null;
  }

  /** The deadline passed: stop the worker (and the wasm in it) and put the spare in its place. */
  #expire(member: Member<T>): void {
    if (member.state !== 'busy' || member.current === null) return;
    const job = member.current;
    this.#clear(member);
    this.#replace(member, 'deadline');
    job.settle({ kind: 'deadline' });
  }

  /** The worker errored or exited on its own. */
  #lost(member: Member<T>, reason: string): void {
    if (member.state === 'dead') return;
    const job = member.current;
    this.#clear(member);
    if (this.#active.includes(member)) this.#replace(member, 'died');
    else {
      member.state = 'dead';
      if (this.#spare === member) this.#spare = null;
    }
    job?.settle({ kind: 'died', reason });
  }

  #replace(member: Member<T>, why: 'deadline' | 'died'): void {
    member.state = 'dead';
    void member.worker.terminate();
    if (this.#closed) return;
    this.#options.onRestart?.(why);
    const index = this.#active.indexOf(member);
    const spare = this.#spare ?? this.#start();
    this.#spare = this.#start();
    if (index >= 0) this.#active[index] = spare;
    // A spare that is already ready takes a job from the queue now; one still
    // starting does when its 'ready' arrives.
    this.#next(spare);
  }
}
