import { afterEach, describe, expect, it } from 'vitest';
import { QueueFullError, RequestWorkers, type JobOutcome } from '../src/serve/request-workers.js';

const script = new URL('./fixtures/serve/job-worker.mjs', import.meta.url);
type Value = { echo?: unknown; slept?: number; threadId: number };

let open: RequestWorkers<Value>[] = [];
function workers(size: number, maxWaiting: number, onRestart?: (why: string) => void, workerData: unknown = {}, stealAfterMs?: number): RequestWorkers<Value> {
  const w = new RequestWorkers<Value>({
    script,
    workerData,
    size,
    maxWaiting,
    requestBytes: 1024,
    responseBytes: 1024,
    // The response is a view of shared memory: TextDecoder wants a copy.
    decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes.slice())) as Value,
    ...(onRestart ? { onRestart } : {}),
    ...(stealAfterMs === undefined ? {} : { stealAfterMs }),
  });
  open.push(w);
  return w;
}

/** A JSON job for the job-worker fixture. */
function job(value: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
afterEach(async () => {
  await Promise.all(open.map((w) => w.close(0)));
  open = [];
});

function value(outcome: JobOutcome<Value>): Value {
  if (outcome.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  return outcome.value;
}

describe('RequestWorkers', () => {
  it('runs jobs on its workers and returns their results', async () => {
    const w = workers(2, 8);
    await w.ready();
    const results = await Promise.all([1, 2, 3, 4].map((n) => w.run(job({ kind: 'echo', value: n }), 5000)));
    expect(results.map((r) => value(r).echo)).toEqual([1, 2, 3, 4]);
  });

  it('runs one job per worker at a time: two jobs on one worker run back to back, on two workers side by side', async () => {
    const one = workers(1, 8);
    await one.ready();
    const two = workers(2, 8);
    await two.ready();
    const t1 = performance.now();
    const [a, b] = await Promise.all([one.run(job({ kind: 'sleep', ms: 150 }), 5000), one.run(job({ kind: 'sleep', ms: 150 }), 5000)]);
    const serial = performance.now() - t1;
    expect(value(a).threadId).toBe(value(b).threadId);
    const [c, d] = await Promise.all([two.run(job({ kind: 'sleep', ms: 150 }), 5000), two.run(job({ kind: 'sleep', ms: 150 }), 5000)]);
    expect(value(c).threadId).not.toBe(value(d).threadId);
    // Structural, not a timing claim: serial execution needs both sleeps back to back.
    expect(serial).toBeGreaterThanOrEqual(300);
  });

  it('a response larger than its ring slot arrives whole, in order with the others', async () => {
    const w = workers(1, 8);
    await w.ready();
    // Responses of 5000 and 10000 bytes against 1024-byte slots.
    const times = [1, 5000, 1, 10_000, 1];
    const results = await Promise.all(times.map((n, i) => w.run(job({ kind: 'repeat', value: String(i), times: n }), 5000)));
    expect(results.map((r) => value(r).echo)).toEqual(times.map((n, i) => String(i).repeat(n)));
  });

  it('refuses a job when every worker is busy and the queue is full', async () => {
    const w = workers(1, 1);
    await w.ready();
    const running = w.run(job({ kind: 'sleep', ms: 200 }), 5000);
    const waiting = w.run(job({ kind: 'echo', value: 'queued' }), 5000);
    expect(w.queueDepth).toBe(1);
    expect(() => w.run(job({ kind: 'echo', value: 'refused' }), 5000)).toThrow(QueueFullError);
    expect(value(await running).slept).toBe(200);
    expect(value(await waiting).echo).toBe('queued');
  });

  it('stops a job past its deadline by terminating its worker, and the spare takes over', async () => {
    const restarts: string[] = [];
    const w = workers(1, 4, (why) => restarts.push(why));
    await w.ready();
    const before = value(await w.run(job({ kind: 'echo', value: 0 }), 5000)).threadId;
    const spin = await w.run(job({ kind: 'spin' }), 100);
    expect(spin.kind).toBe('deadline');
    expect(restarts).toEqual(['deadline']);
    const after = value(await w.run(job({ kind: 'echo', value: 1 }), 5000));
    expect(after.echo).toBe(1);
    expect(after.threadId).not.toBe(before);
  });

  it('a queued job runs after the job ahead of it hit its deadline', async () => {
    const w = workers(1, 4);
    await w.ready();
    const spin = w.run(job({ kind: 'spin' }), 100);
    const queued = w.run(job({ kind: 'echo', value: 'next' }), 5000);
    expect((await spin).kind).toBe('deadline');
    expect(value(await queued).echo).toBe('next');
  });

  it('a job queued behind a runaway is taken back and served by another worker long before the runaway\'s deadline', async () => {
    const w = workers(2, 8, undefined, {}, 10);
    await w.ready();
    // Both workers idle: the runaway goes to the first, the sleep to the second,
    // and the echo (both hold one job) queues in the first one's ring, behind the runaway.
    let runawaySettled = false;
    const runaway = w.run(job({ kind: 'spin' }), 30_000).finally(() => {
      runawaySettled = true;
    });
    const sleeping = w.run(job({ kind: 'sleep', ms: 100 }), 5000);
    const behind = w.run(job({ kind: 'echo', value: 'behind' }), 5000);
    expect(w.queueDepth).toBe(1);
    const served = value(await behind);
    expect(served.echo).toBe('behind');
    // Served by the other worker, while the runaway still runs (its deadline is 30 s away).
    expect(served.threadId).toBe(value(await sleeping).threadId);
    expect(runawaySettled).toBe(false);
    await w.close(0);
    expect((await runaway).kind).toBe('closed');
  });

  it('a worker that dies fails its job with the reason and is replaced', async () => {
    const restarts: string[] = [];
    const w = workers(1, 4, (why) => restarts.push(why));
    await w.ready();
    const died = await w.run(job({ kind: 'exit' }), 5000);
    expect(died).toMatchObject({ kind: 'died' });
    expect(died.kind === 'died' ? died.reason : '').toContain('code 3');
    expect(restarts).toEqual(['died']);
    expect(value(await w.run(job({ kind: 'echo', value: 'alive' }), 5000)).echo).toBe('alive');
  });

  it('jobs queued behind one whose worker dies are not lost: the replacement runs them', async () => {
    const w = workers(1, 8);
    await w.ready();
    const died = w.run(job({ kind: 'exit' }), 5000);
    const behind = [1, 2, 3].map((n) => w.run(job({ kind: 'echo', value: n }), 5000));
    expect((await died).kind).toBe('died');
    expect((await Promise.all(behind)).map((r) => value(r).echo)).toEqual([1, 2, 3]);
  });

  it('close waits for running jobs within the grace period, then settles the rest as closed', async () => {
    const w = workers(1, 4);
    await w.ready();
    const quick = w.run(job({ kind: 'sleep', ms: 50 }), 5000);
    const stuck = w.run(job({ kind: 'spin' }), 60_000);
    await w.close(300);
    expect(value(await quick).slept).toBe(50);
    expect((await stuck).kind).toBe('closed');
    expect(await w.run(job({ kind: 'echo', value: 'late' }), 100)).toEqual({ kind: 'closed' });
  });

  it('ready() rejects with the worker\'s reason when it cannot start', async () => {
    const w = workers(1, 1, undefined, { failStart: true });
    await expect(w.ready()).rejects.toThrow('configured to fail');
  });
});
