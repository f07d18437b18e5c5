/**
 * The configurations the isolation fuzzer runs every case on:
 *
 *   fresh                 plain V8 per instance (the fuzzer's own control)
 *   copy                  pooled memory, image copied, zeroed on release
 *   cow/<mode>            pooled memory, image mapped, reset by <mode> — one per RESET_MODES entry
 *   reuse/<mode>          as cow/<mode>, the slot keeping its instance and rewinding it (modules
 *                         the rewind cannot make fresh get a new instance: reuse-eligibility.ts)
 *   raw/<mode>            raw slots (RawSlotPool) reset by <mode>
 *   cow-virtual/<mode>    as cow/<mode>, prepared with growth 'virtual': a tenant that grew
 *   reuse-virtual/<mode>  leaves its slot at the initial size (memory.size/grow rewritten)
 *
 * A reset mode the slot layer does not implement yet ("unknown mode") is
 * unavailable and reported; see reset-mode-support.ts.
 */
import { CowpoolError } from '../errors.js';
import type { ResetMode, Strategy } from '../config/pool-config-schema.js';
import type { IsolationCase } from './isolation-case.js';
import { PoolHost } from './pool-host.js';
import { runRawCase, type RawCase } from './raw-slot-differential.js';
import { runReentrantTargets } from './reentrant-targets.js';
import { resetModesSupport } from './reset-mode-support.js';
import { runCaseOnHost, type HostRun } from './run-isolation-case.js';

export type IsolationTarget =
  | { name: string; kind: 'pool'; strategy: Strategy; mode: ResetMode; growth?: 'virtual' }
  | { name: string; kind: 'raw'; mode: ResetMode };

export interface UnavailableTarget {
  name: string;
  reason: string;
}

/** Every target this build supports, and the ones unavailable with why. */
export async function isolationTargets(): Promise<{ targets: IsolationTarget[]; unavailable: UnavailableTarget[] }> {
  const targets: IsolationTarget[] = [
    { name: 'fresh', kind: 'pool', strategy: 'fresh', mode: 'madvise' },
    { name: 'copy', kind: 'pool', strategy: 'copy', mode: 'madvise' },
  ];
  const unavailable: UnavailableTarget[] = [];
  const raw: IsolationTarget[] = [];
  const reuse: IsolationTarget[] = [];
  const virtual: IsolationTarget[] = [];
  for (const support of await resetModesSupport()) {
    if (!support.supported) {
      unavailable.push(
        { name: `cow/${support.mode}`, reason: support.reason },
        { name: `reuse/${support.mode}`, reason: support.reason },
        { name: `raw/${support.mode}`, reason: support.reason },
        { name: `cow-virtual/${support.mode}`, reason: support.reason },
        { name: `reuse-virtual/${support.mode}`, reason: support.reason },
      );
      continue;
    }
    targets.push({ name: `cow/${support.mode}`, kind: 'pool', strategy: 'cow', mode: support.mode });
    reuse.push({ name: `reuse/${support.mode}`, kind: 'pool', strategy: 'reuse', mode: support.mode });
    raw.push({ name: `raw/${support.mode}`, kind: 'raw', mode: support.mode });
    virtual.push(
      { name: `cow-virtual/${support.mode}`, kind: 'pool', strategy: 'cow', mode: support.mode, growth: 'virtual' },
      { name: `reuse-virtual/${support.mode}`, kind: 'pool', strategy: 'reuse', mode: support.mode, growth: 'virtual' },
    );
  }
  return { targets: [...targets, ...reuse, ...raw, ...virtual], unavailable };
}

/** Keeps the targets named in `names` (all when empty); an unknown name is an INVALID_ARGUMENT naming the known ones. */
export function selectTargets(all: readonly IsolationTarget[], unavailable: readonly UnavailableTarget[], names: readonly string[]): IsolationTarget[] {
  if (names.length === 0) return [...all];
  return names.map((name) => {
    const target = all.find((t) => t.name === name);
    if (target !== undefined) return target;
    const gap = unavailable.find((s) => s.name === name);
    throw new CowpoolError(
      'INVALID_ARGUMENT',
      gap !== undefined
        ? `--target ${name}: this build cannot run it (${gap.reason})`
        : `--target ${name}: unknown target; known: ${all.map((t) => t.name).join(', ')}`,
    );
  });
}

/** Runs one case on one target. */
export async function runTarget(target: IsolationTarget, poolCase: IsolationCase, rawCase: RawCase): Promise<HostRun> {
  if (target.kind === 'raw') return runRawCase(rawCase, target.mode);
  const host = new PoolHost(target.name, {
    strategy: target.strategy,
    limits: { ...poolCase.limits },
    reset: { mode: target.mode },
    exhausted: { policy: 'throw' },
  }, target.growth);
  const run = await runCaseOnHost(poolCase, host);
  return run.failure !== null ? run : runReentrantTargets(target, poolCase, run);
}
