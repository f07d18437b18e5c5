/**
 * Messages between the thread-scaling coordinator and its workers.
 *
 *   coordinator                          worker
 *   spawn(workerData) ─────────────────► open subject, warm up
 *                     ◄───────────────── ready | failed
 *   run(round) ────────────────────────► armed, then waits on control[0] >= round
 *   control[0] = round, notify ────────► runs the operation for timeMs
 *                     ◄───────────────── done(ops, elapsedMs) | failed
 *   terminate()
 *
 * The shared `control` word lets every worker of a round start at the same
 * moment instead of whenever its message arrives.
 */
import type { BenchScenario } from './bench-config-schema.js';
import type { SubjectModule, SubjectSpec } from './bench-subjects.js';

export interface ThreadWorkerData {
  module: SubjectModule;
  spec: SubjectSpec;
  scenario: BenchScenario;
  warmupMs: number;
  /** Int32Array over it: word 0 is the round that may start. */
  control: SharedArrayBuffer;
}

export type CoordinatorMessage = { type: 'run'; round: number; timeMs: number };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'armed' }
  | { type: 'done'; ops: number; elapsedMs: number }
  | { type: 'failed'; message: string };
