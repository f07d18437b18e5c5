/**
 * A worker of the thread section (see thread-protocol.ts): opens one
 * subject on one module with its own pool, then repeats the scenario's
 * operation for as long as each round asks.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { openSubject, type OpenSubject } from './bench-subjects.js';
import type { CoordinatorMessage, ThreadWorkerData, WorkerMessage } from './thread-protocol.js';

const port = parentPort;
if (port === null) throw new Error('thread-worker.js runs only as a worker thread of `cowpool bench`');
const data = workerData as ThreadWorkerData;
const post = (message: WorkerMessage) => port.postMessage(message);
const describe = (e: unknown) => (e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e));

let subject: OpenSubject | null = null;
try {
  subject = await openSubject(data.spec, data.module);
  const operation = subject.operation(data.scenario);
  if ('skip' in operation) {
    post({ type: 'failed', message: operation.skip });
  } else {
    const run = operation.run;
    const warmEnd = performance.now() + data.warmupMs;
    do run();
    while (performance.now() < warmEnd);
    const control = new Int32Array(data.control);
    port.on('message', (message: CoordinatorMessage) => {
      post({ type: 'armed' });
      for (let seen = Atomics.load(control, 0); seen < message.round; seen = Atomics.load(control, 0)) {
        Atomics.wait(control, 0, seen);
      }
      try {
        let ops = 0;
        const start = performance.now();
        const end = start + message.timeMs;
        let now = start;
        while (now < end) {
          run();
          ops++;
          now = performance.now();
        }
        post({ type: 'done', ops, elapsedMs: now - start });
      } catch (e) {
        post({ type: 'failed', message: describe(e) });
      }
    });
    post({ type: 'ready' });
  }
} catch (e) {
  subject?.close();
  post({ type: 'failed', message: describe(e) });
}
