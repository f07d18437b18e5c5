/**
 * A request worker's side of its job ring: claim the job offered first, run
 * it, write the response into the same slot, ring the dispatcher's bell;
 * repeat. One job at a time, in offer order.
 *
 *   ┌─► claimNext ──► handler(request, response area) ──► complete ──► bell ─┐
 *   │        │ nothing queued                                               │
 *   │        ▼                                                              │
 *   │   block on the doorbell ≤ BLOCK_MS ──► still nothing: await the       │
 *   │   doorbell on the event loop (messages, timers, termination run)      │
 *   └───────────────────────────────────────────────────────────────────────┘
 *
 * While jobs keep coming the worker never goes through its event loop
 * between them (a futex wake instead of a message per request); it returns
 * to it after BURST jobs in a row, and whenever it has been idle BLOCK_MS,
 * so platform tasks and messages still run.
 *
 * The bell is rung for every completion but notified (which wakes the
 * dispatcher: a cross-CPU wake, dearer than a short job) only once the
 * worker is about to run low (at most ANNOUNCE_BELOW jobs queued), once the
 * oldest unannounced completion is ANNOUNCE_WITHIN_MS old, or before the
 * worker waits.
 *
 * Invariant: `unannounced` > 0 only while the worker is running jobs; it is
 *            0 whenever the worker waits (nothing completed goes unnoticed).
 *
 * What a worker gets at start (its workerData) is a `JobWorkerData`: its
 * ring, the dispatcher's bell, and the pool's own data for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JobRing } from './job-ring.js';

export interface JobWorkerData {
  readonly ring: SharedArrayBuffer;
  /** One Int32 the worker adds 1 to and notifies after every completed job. */
  readonly bell: SharedArrayBuffer;
  /** What the worker pool's user passed as workerData. */
  readonly data: unknown;
}

/**
 * Runs one job: reads `request`, writes the response into `response` and
 * returns its length, or returns the response's bytes when they do not fit
 * (they then travel as a message). A throw is a bug of the worker: it ends
 * the worker, and the dispatcher fails the job as a worker death.
 */
export type JobHandler = (request: Uint8Array, response: Uint8Array) => number | Uint8Array;

/** Jobs run in a row before the worker lets its event loop turn once. */
const BURST = 64;
/** Completions are announced at once when at most this many jobs are queued behind (the dispatcher refills in time)... */
const ANNOUNCE_BELOW = 2;
/** ...or when the oldest unannounced one finished this long ago. */
const ANNOUNCE_WITHIN_MS = 1;
/** How long an idle worker blocks on its doorbell before waiting on its event loop instead. */
const BLOCK_MS = 2;

/** The data the worker pool's user passed for this worker. */
export function jobWorkerData(): unknown {
  return (workerData as JobWorkerData).data;
}

/** Tells the dispatcher this worker is ready, then serves its ring until the thread is terminated. */
export function serveJobs(handler: JobHandler): void {
  const port = parentPort;
  if (port === null) throw new Error('serveJobs runs in a worker thread');
  const { ring: buffer, bell: bellBuffer } = workerData as JobWorkerData;
  const ring = new JobRing(buffer);
  const bell = new Int32Array(bellBuffer);
  // A pending Atomics.waitAsync does not keep a thread alive; a listening port does.
  port.on('message', () => undefined);
  port.postMessage({ type: 'ready' });

  // Completions not yet announced, and since when.
  let unannounced = 0;
  let unannouncedSince = 0;
  const announce = (): void => {
    unannounced = 0;
    Atomics.notify(bell, 0);
  };
  const runOne = (slot: number): void => {
    const out = handler(ring.request(slot), ring.responseArea(slot));
    if (typeof out === 'number') ring.complete(slot, out);
    else {
      // Posted before the slot is DONE: the dispatcher waits for it when it sees DONE first.
      port.postMessage({ type: 'response', seq: ring.claimedSeq(slot), bytes: out }, [out.buffer as ArrayBuffer]);
      ring.complete(slot, -1);
    }
    Atomics.add(bell, 0, 1);
    const now = performance.now();
    if (unannounced === 0) unannouncedSince = now;
    unannounced += 1;
    // Waking the dispatcher costs more than a short job here (a cross-CPU
    // wake): announce completions in batches while this worker has more queued,
    // unless the oldest unannounced one has waited ANNOUNCE_WITHIN_MS.
    if (ring.queued() <= ANNOUNCE_BELOW || now - unannouncedSince >= ANNOUNCE_WITHIN_MS) announce();
  };

  void (async () => {
    for (;;) {
      let served = 0;
      // Read the doorbell before looking: an offer after this read changes it, so the wait below cannot miss it.
      let seen = ring.doorbell();
      while (served < BURST) {
        const slot = ring.claimNext();
        if (slot >= 0) {
          runOne(slot);
          served += 1;
          seen = ring.doorbell();
          continue;
        }
        if (unannounced > 0) announce();
        if (ring.waitForOffer(seen, BLOCK_MS) === 'timed-out') break;
        seen = ring.doorbell();
      }
      if (unannounced > 0) announce();
      if (served >= BURST) await new Promise((resolve) => setImmediate(resolve));
      else await ring.waitForOfferAsync(seen);
    }
  })();
}

/** Sends the dispatcher a report (statistics); it reaches the pool's `onReport`. */
export function postReport(value: unknown): void {
  parentPort?.postMessage({ type: 'report', value });
}

/** Tells the dispatcher this worker could not start, and why. */
export function postStartFailure(error: string): void {
  parentPort?.postMessage({ type: 'failed', error });
}
