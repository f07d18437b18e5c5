/**
 * Where the re-entrant actors run: after a pool target's main case, the same
 * seed's re-entrant case on that target's strategy and reset mode (under
 * `reuse/<mode>` the kept instance serves tenant after tenant, so its call
 * count must too). Their tenants and first failure are added to the target's
 * run; `--target <name>` replays both.
 */
import type { IsolationCase } from './isolation-case.js';
import type { IsolationTarget } from './isolation-targets.js';
import { generateReentrantCase } from './reentrant-case.js';
import { runReentrantCase, type ReentrantTarget } from './run-reentrant-case.js';
import type { HostRun } from './run-isolation-case.js';

export async function runReentrantTargets(target: Extract<IsolationTarget, { kind: 'pool' }>, poolCase: IsolationCase, run: HostRun): Promise<HostRun> {
  const reentrant = generateReentrantCase(poolCase.seed, poolCase.modules.length);
  const configs: ReentrantTarget[] = [{ name: `${target.name} (re-entrant)`, replayTarget: target.name, strategy: target.strategy, mode: target.mode }];
  let tenants = run.tenants;
  for (const config of configs) {
    const r = await runReentrantCase(reentrant, poolCase, config);
    tenants += r.tenants;
    if (r.failure !== null) return { target: run.target, tenants, failure: r.failure };
  }
  return { target: run.target, tenants, failure: null };
}
