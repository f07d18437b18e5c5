/**
 * The worker threads that run requests: each worker runs one request at a
 * time and may hold a few more queued behind it in its job ring (so it goes
 * from one to the next without waiting for this thread); a bounded queue in
 * front; a deadline per request enforced from outside the worker; a warm
 * spare that takes a stopped worker's place at once.
 *
 *   queue (FIFO) ──► worker's ring: [running | queued …] ──► DONE ──► collected
 *        ▲                   │ queued behind a request running
 *        │                   │ longer than stealAfterMs:
 *        └── reclaimed ◄─────┘ (claim protocol) and given to another worker
 *
 *   deadline passed / worker died: terminate it, the spare takes its place,
 *   a new spare starts in the background
 *
 * Requests and responses are bytes in each worker's JobRing (shared memory);
 * a worker is woken by its ring's doorbell, and this thread by one shared
 * bell that every worker rings after a job (Atomics.waitAsync, so one wake
 * may collect many completions). Messages carry only start-up and reports.
 *
 * A wasm loop that never returns cannot be interrupted on its own thread
 * without instrumenting the module; terminating the worker stops it (V8 stops
 * wasm on termination) and costs the worker's pool, which is why a spare is
 * kept ready. A job queued behind such a loop is reclaimed once the loop has
 * run stealAfterMs, so it waits that long, not for the loop's deadline.
 *
 * Invariant: a member's `assigned` are its ring's non-FREE slots, in offer
 *            order; `assigned[0]` is the job running (or about to), and has
 *            the member's only `timer`; a member with none has no timer.
 * Invariant: `queueDepth` (queued here + queued in rings) ≤ maxWaiting,
 *            except by reclaimed jobs put back at the front.
 * Invariant: every job's promise settles exactly once (result, deadline,
 *            worker death, or close).
 * Invariant: `#spare` is null or a worker that is not in `#active`.
 * Invariant: a `stalled` member gets no new jobs until its running one ends.
 */
import { Worker } from 'node:worker_threads';
import { JobRing, waitAsync } from './job-ring.js';
import type { JobWorkerData } from './job-loop.js';

export interface WorkerPoolOptions<T> {
  /** The worker's entry module; it serves its ring with serveJobs (job-loop.ts). */
  readonly script: URL;
  /** Passed to each worker (jobWorkerData() there). */
  readonly workerData: unknown;
  /** Workers running requests. */
  readonly size: number;
  /** Jobs that may wait for a worker (here or queued in a worker's ring). */
  readonly maxWaiting: number;
  /** Largest encoded request, in bytes. */
  readonly requestBytes: number;
  /** Room for a response in a ring slot; a larger one travels as a message. */
  readonly responseBytes: number;
  /** Reads a response (a view into shared memory valid during the call only: copy what is kept). */
  readonly decode: (response: Uint8Array) => T;
  /** Jobs a worker holds at once, running and queued (default: up to 8, as many slots as fit in 256 MiB; 1 = no pipelining). */
  readonly depth?: number;
  /** A job queued behind one running longer than this is given to another worker (default 10 ms). */
  readonly stealAfterMs?: number;
  /** Called whenever a worker is stopped and replaced (deadline or death). */
  readonly onRestart?: (reason: 'deadline' | 'died') => void;
  /** Reports a worker posts (postReport in job-loop.ts). */
  readonly onReport?: (value: unknown) => void;
}

/** What a job ends as, besides the worker's own response. */
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
  readonly request: Uint8Array;
  readonly deadlineMs: number;
  readonly settle: (outcome: JobOutcome<T>) => void;
  /** Where it is offered now (valid while in a member's `assigned`). */
  slot: number;
  seq: number;
}

interface Member<T> {
  readonly id: number;
  readonly worker: Worker;
  readonly ring: JobRing;
  state: 'starting' | 'up' | 'dead';
  readonly assigned: Job<T>[];
  /** When assigned[0] started, as seen from here. */
  startedAt: number;
  timer: NodeJS.Timeout | null;
  stalled: boolean;
  /** Responses too large for their slot, posted by the worker, by seq. */
  readonly posted: Map<number, Uint8Array>;
  ready: Promise<void>;
}

/** Messages a worker posts: `ready` once (or `failed`), then `report`s and responses too large for a slot. */
interface WorkerMessage {
  readonly type: 'ready' | 'failed' | 'report' | 'response';
  readonly value?: unknown;
  readonly error?: string;
  readonly seq?: number;
  readonly bytes?: Uint8Array;
}

/** Virtual memory one worker's ring may take when the depth is left to the default. */
const RING_BUDGET_BYTES = 256 * 1024 * 1024;
const MAX_DEFAULT_DEPTH = 8;
/** How long close() lets a worker that is still starting finish before terminating it. */
const STARTING_GRACE_MS = 5000;

export class RequestWorkers<T> {
  readonly #options: WorkerPoolOptions<T>;
  readonly #depth: number;
  readonly #stealAfterMs: number;
  readonly #active: Member<T>[] = [];
  #spare: Member<T> | null = null;
  readonly #queue: Job<T>[] = [];
  /** Rung by every worker after every job; this thread waits on it without blocking. */
  readonly #bell = new Int32Array(new SharedArrayBuffer(4));
  #watchdog: NodeJS.Timeout | null = null;
  #nextId = 0;
  #seq = 0;
  #closed = false;
  #stopped = false;

  constructor(options: WorkerPoolOptions<T>) {
    this.#options = options;
    this.#depth = options.depth ?? Math.max(1, Math.min(MAX_DEFAULT_DEPTH, Math.floor(RING_BUDGET_BYTES / (options.requestBytes + options.responseBytes))));
    this.#stealAfterMs = options.stealAfterMs ?? 10;
    if (!Number.isInteger(this.#depth) || this.#depth < 1) throw new RangeError(`RequestWorkers: depth must be a positive integer, got ${this.#depth}`);
    for (let i = 0; i < options.size; i++) this.#active.push(this.#start());
    this.#spare = this.#start();
    this.#listen();
  }

  /** Resolves when every active worker has started (or rejects with why one could not). */
  async ready(): Promise<void> {
    await Promise.all(this.#active.map((m) => m.ready));
  }

  /** Jobs waiting for a worker: here, and queued behind a running job in a ring. */
  get queueDepth(): number {
    let n = this.#queue.length;
    for (const m of this.#active) if (m.assigned.length > 1) n += m.assigned.length - 1;
    return n;
  }

  /** Workers running a job. */
  get inFlight(): number {
    return this.#active.filter((m) => m.assigned.length > 0).length;
  }

  /**
   * Runs `request` (encoded; at most requestBytes) on a worker within
   * `deadlineMs`, counted from when this thread sees the job reach the front
   * of a worker's ring (a worker announces completions in batches, so that
   * can be up to about stealAfterMs after the job started). Throws
   * QueueFullError at once when it cannot wait.
   */
  run(request: Uint8Array, deadlineMs: number): Promise<JobOutcome<T>> {
    if (this.#closed) return Promise.resolve({ kind: 'closed' });
    if (request.length > this.#options.requestBytes) throw new RangeError(`RequestWorkers.run: a request of ${request.length} bytes is over requestBytes (${this.#options.requestBytes})`);
    const idle = this.#active.some((m) => m.state === 'up' && m.assigned.length === 0);
    if (!idle && this.queueDepth >= this.#options.maxWaiting) throw new QueueFullError();
    return new Promise<JobOutcome<T>>((resolve) => {
      let settled = false;
      this.#queue.push({
        request,
        deadlineMs,
        slot: -1,
        seq: 0,
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          resolve(outcome);
        },
      });
      this.#pump();
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
      for (const job of m.assigned.splice(0)) job.settle({ kind: 'closed' });
      this.#clearTimer(m);
      m.state = 'dead';
    }
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    this.#watchdog = null;
    // Wake and end the wait on the bell.
    this.#stopped = true;
    Atomics.add(this.#bell, 0, 1);
    Atomics.notify(this.#bell, 0);
    // A worker still starting is inside the addon's calls (preparing its
    // modules): let it finish starting, or fail, before terminating it, as
    // terminating a thread there has aborted the process.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(all.map((m) => m.ready)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, STARTING_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    await Promise.all(all.map((m) => m.worker.terminate()));
  }

  #start(): Member<T> {
    const ring = JobRing.create({ slots: this.#depth, requestBytes: this.#options.requestBytes, responseBytes: this.#options.responseBytes });
    const data: JobWorkerData = { ring: ring.buffer, bell: this.#bell.buffer as SharedArrayBuffer, data: this.#options.workerData };
    const worker = new Worker(this.#options.script, { workerData: data });
    const member: Member<T> = {
      id: this.#nextId++, worker, ring, state: 'starting', assigned: [], startedAt: 0, timer: null, stalled: false, posted: new Map(), ready: Promise.resolve(),
    };
    member.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          if (member.state !== 'starting') return;
          member.state = 'up';
          resolve();
          this.#pump();
        } else if (msg.type === 'failed') {
          reject(new Error(msg.error ?? 'the worker failed to start'));
        } else if (msg.type === 'report') {
          this.#options.onReport?.(msg.value);
        } else if (msg.type === 'response' && msg.seq !== undefined && msg.bytes !== undefined) {
          member.posted.set(msg.seq, msg.bytes);
          this.#collect(member);
          this.#pump();
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

  /** Collects completions whenever a worker rings the bell, many per wake when they come fast. */
  #listen(): void {
    for (;;) {
      if (this.#stopped) return;
      const seen = Atomics.load(this.#bell, 0);
      this.#collectAll();
      const wait = waitAsync(this.#bell, 0, seen);
      if (wait !== null) {
        void wait.then(() => this.#listen());
        return;
      }
    }
  }

  #collectAll(): void {
    for (const m of this.#active) this.#collect(m);
    this.#pump();
  }

  /** Settles the member's finished jobs, front first. */
  #collect(member: Member<T>): void {
    if (member.state !== 'up') return;
    for (;;) {
      const head = member.assigned[0];
      if (head === undefined || !member.ring.isDone(head.slot)) return;
      let outcome: JobOutcome<T>;
      try {
        let bytes = member.ring.response(head.slot, head.seq);
        if (bytes === null) {
          // Too large for the slot: it comes as a message, posted before the slot was marked DONE.
          bytes = member.posted.get(head.seq) ?? null;
          if (bytes === null) return;
          member.posted.delete(head.seq);
        }
        outcome = { kind: 'result', value: this.#options.decode(bytes) };
      } catch (e) {
        outcome = { kind: 'died', reason: `unreadable response: ${e instanceof Error ? e.message : String(e)}` };
      }
      member.ring.collect(head.slot);
      member.assigned.shift();
      this.#clearTimer(member);
      member.stalled = false;
      head.settle(outcome);
      if (member.assigned.length > 0) this.#began(member);
    }
  }

  /** Gives queued jobs to workers with room: the least loaded first, never one that is stalled. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let target: Member<T> | undefined;
      for (const m of this.#active) {
        if (m.state !== 'up' || m.assigned.length >= this.#depth || (m.stalled && m.assigned.length > 0)) continue;
        if (target === undefined || m.assigned.length < target.assigned.length) target = m;
      }
      if (target === undefined) return;
      this.#offer(target, this.#queue.shift() as Job<T>);
    }
  }

  #offer(member: Member<T>, job: Job<T>): void {
    if (member.state !== 'up' || member.assigned.length >= this.#depth) throw new Error(`offer to a ${member.state} worker holding ${member.assigned.length} jobs`);
    const slot = member.ring.freeSlot();
    if (slot < 0) throw new Error('offer: the ring has no free slot although the worker holds fewer jobs than its depth');
    member.ring.requestArea(slot).set(job.request);
    this.#seq = (this.#seq + 1) | 0;
    job.slot = slot;
    job.seq = this.#seq;
    member.ring.offer(slot, job.seq, job.request.length);
    member.assigned.push(job);
    if (member.assigned.length === 1) this.#began(member);
    else this.#watch();
  }

  /** assigned[0] starts now: its deadline runs from here. */
  #began(member: Member<T>): void {
    const head = member.assigned[0];
    if (head === undefined || member.timer !== null) throw new Error('began: no job, or a timer already set');
    member.startedAt = performance.now();
    member.timer = setTimeout(() => this.#expire(member, head), head.deadlineMs);
  }

  #clearTimer(member: Member<T>): void {
    if (member.timer !== null) clearTimeout(member.timer);
    member.timer = null;
  }

  /** Checks for stalled workers while any job waits in a ring behind another. */
  #watch(): void {
    if (this.#watchdog !== null) return;
    this.#watchdog = setInterval(() => this.#checkStalls(), this.#stealAfterMs);
    this.#watchdog.unref();
  }

  #checkStalls(): void {
    this.#collectAll();
    const now = performance.now();
    let waiting = false;
    for (const m of this.#active) {
      if (m.state !== 'up' || m.assigned.length < 2) continue;
      if (now - m.startedAt >= this.#stealAfterMs) {
        m.stalled = true;
        this.#reclaimQueued(m);
      }
      if (m.assigned.length > 1) waiting = true;
    }
    this.#pump();
    if (!waiting && this.#watchdog !== null && !this.#active.some((m) => m.assigned.length > 1)) {
      clearInterval(this.#watchdog);
      this.#watchdog = null;
    }
  }

  /**
   * Takes back the member's queued jobs that it has not claimed, to the
   * front of the queue in their order. A job the worker did claim stays
   * (then every job before it was claimed too: the worker claims in order).
   */
  #reclaimQueued(member: Member<T>): void {
    for (let i = member.assigned.length - 1; i >= 1; i--) {
      const job = member.assigned[i] as Job<T>;
      if (!member.ring.reclaim(job.slot)) return;
      member.assigned.splice(i, 1);
      this.#queue.unshift(job);
    }
  }

  /** assigned[0]'s deadline passed: stop the worker (and the wasm in it) and put the spare in its place. */
  #expire(member: Member<T>, job: Job<T>): void {
    member.timer = null;
    if (member.state !== 'up' || member.assigned[0] !== job) return;
    // Take back what waits behind it first: then the worker cannot move on to it.
    this.#reclaimQueued(member);
    if (member.ring.isDone(job.slot)) {
      // It finished just now: a result, not a deadline.
      this.#collect(member);
      this.#pump();
      return;
    }
    member.assigned.shift();
    this.#replace(member, 'deadline');
    // Claimed behind an unfinished job cannot happen (the worker runs one at a time); settle anything left all the same.
    for (const left of member.assigned.splice(0)) left.settle({ kind: 'died', reason: 'its worker was stopped' });
    job.settle({ kind: 'deadline' });
    this.#pump();
  }

  /** The worker errored or exited on its own. */
  #lost(member: Member<T>, reason: string): void {
    if (member.state === 'dead') return;
    const wasUp = member.state === 'up';
    this.#clearTimer(member);
    if (wasUp) this.#reclaimQueued(member);
    const failed = member.assigned.splice(0);
    if (this.#active.includes(member)) this.#replace(member, 'died');
    else {
      member.state = 'dead';
      if (this.#spare === member) this.#spare = null;
    }
    for (const job of failed) job.settle({ kind: 'died', reason });
    this.#pump();
  }

  #replace(member: Member<T>, why: 'deadline' | 'died'): void {
    member.state = 'dead';
    this.#clearTimer(member);
    void member.worker.terminate();
    if (this.#closed) return;
    this.#options.onRestart?.(why);
    const index = this.#active.indexOf(member);
    const spare = this.#spare ?? this.#start();
    this.#spare = this.#start();
    if (index >= 0) this.#active[index] = spare;
    // A spare that is already up takes jobs now (the caller pumps); one still
    // starting does when its 'ready' arrives.
  }
}
