/**
 * Runs one IsolationCase on one host, side by side with plain V8: every
 * tenant gets a pooled instance and a brand-new `new WebAssembly.Instance` of
 * the same module. The pooled one must show exactly the state of the fresh
 * one when it starts (the isolation property: nothing of an earlier tenant,
 * of another module, or of a failed system call shows), behave the same under
 * every action, and every reference kept from a released tenant must throw
 * LEASE_RELEASED without touching whoever holds the slot now.
 *
 * The first failure ends the run on that host: the state after it means
 * nothing more.
 */
import { isCowpoolError } from '../errors.js';
import type { IsolationCase, TenantScript } from './isolation-case.js';
import type { HostedTenant, IsolationHost } from './isolation-host.js';
import { describeShape, type ModuleShape } from './module-shape.js';
import { observeState, stateDifference } from './observed-state.js';
import { describeOutcome, outcome, runAction, sameOutcome, thrownDescription } from './run-action.js';
import { describeAction } from './tenant-actions.js';

export interface IsolationFailure {
  seed: number;
  target: string;
  /** The tenant at fault, or null for a problem found after the last one. */
  tenant: number | null;
  message: string;
  /** One line that replays exactly this case on this target. */
  replay: string;
}

export interface HostRun {
  target: string;
  /** Tenants that got an instance (instantiation traps not counted). */
  tenants: number;
  failure: IsolationFailure | null;
}

export function replayCommand(seed: number, target: string): string {
  // Faults change the generated case, and only the test build of the addon injects them.
  const build = process.env.COWPOOL_NATIVE_BUILD === 'test' ? 'COWPOOL_NATIVE_BUILD=test ' : '';
  return `${build}npm run fuzz -- --seed ${seed} --cases 1 --target ${target}`;
}

interface Live {
  index: number;
  script: TenantScript;
  tenant: HostedTenant;
  releaseAt: number;
}

class CaseFailure extends Error {
  constructor(
    readonly tenant: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** Instantiation failed on one side: both must fail, and the pool only with what V8 itself throws (or INSTANTIATE_FAILED). */
function sameInstantiationFailure(pooled: unknown, fresh: unknown): boolean {
  if (isCowpoolError(pooled, 'INSTANTIATE_FAILED')) return true;
  return pooled instanceof Error && fresh instanceof Error && pooled.name === fresh.name && pooled.message === fresh.message;
}

export async function runCaseOnHost(c: IsolationCase, host: IsolationHost): Promise<HostRun> {
  const refModules = c.modules.map((bytes) => new WebAssembly.Module(bytes));
  const live: Live[] = [];
  let stale: (readonly [string, () => unknown])[] = [];
  let faultsInjected = false;
  let tenants = 0;

  const release = (l: Live): void => {
    const run = (): void => l.tenant.release();
    try {
      if (l.script.faultOnRelease !== null) {
        faultsInjected = true;
        host.withFault(l.script.faultOnRelease, run);
      } else {
        run();
      }
    } catch (e) {
      throw new CaseFailure(l.index, `release() threw ${thrownDescription(e)}; a release must succeed even when the reset fails`);
    }
    if (l.script.leak) {
      stale.push(...l.tenant.staleUses);
      // A failed reset leaves the slot `unknown` (repaired before anyone gets it), so only a clean release is checked.
      const kept = l.script.faultOnRelease === null ? l.tenant.checkKeptMemory() : null;
      if (kept !== null) throw new CaseFailure(l.index, kept);
    }
  };
  const releaseDue = (now: number): void => {
    for (let i = 0; i < live.length; ) {
      const l = live[i] as Live;
      if (l.releaseAt <= now) {
        live.splice(i, 1);
        release(l);
      } else {
        i++;
      }
    }
  };

  const acquire = (index: number, script: TenantScript): { hosted: HostedTenant | null; error: unknown } => {
    const attempt = (): HostedTenant => host.acquire(script.module);
    try {
      if (script.faultOnAcquire === null) return { hosted: attempt(), error: null };
      faultsInjected = true;
      return { hosted: host.withFault(script.faultOnAcquire, attempt), error: null };
    } catch (e) {
      if (script.faultOnAcquire === null || !isCowpoolError(e, 'SYSCALL_FAILED')) return { hosted: null, error: e };
      // The injected failure surfaced as a typed error; the slot is `unknown` now and the next acquire must repair it.
      try {
        return { hosted: attempt(), error: null };
      } catch (again) {
        // Instantiation itself may trap (V8 must agree; compared by the caller), but the pool must not fail again.
        if (isCowpoolError(again, 'SYSCALL_FAILED') || isCowpoolError(again, 'SLOT_STATE')) {
          throw new CaseFailure(index, `after an injected ${script.faultOnAcquire.syscall} failure, the next acquire also failed: ${thrownDescription(again)}`);
        }
        return { hosted: null, error: again };
      }
    }
  };

  const runTenant = (index: number, script: TenantScript): void => {
    const shape = c.shapes[script.module] as ModuleShape;
    const { hosted, error } = acquire(index, script);
    let fresh: WebAssembly.Instance | null = null;
    let freshError: unknown = null;
    try {
      fresh = new WebAssembly.Instance(refModules[script.module] as WebAssembly.Module);
    } catch (e) {
      freshError = e;
    }
    if (hosted === null || fresh === null) {
      if (hosted !== null) {
        hosted.release();
        throw new CaseFailure(index, `instantiation succeeded, but a fresh V8 instance fails: ${thrownDescription(freshError)}`);
      }
      if (fresh !== null) throw new CaseFailure(index, `instantiation failed: ${thrownDescription(error)}; a fresh V8 instance succeeds`);
      if (!sameInstantiationFailure(error, freshError)) {
        throw new CaseFailure(index, `instantiation failed with ${thrownDescription(error)}; a fresh V8 instance fails with ${thrownDescription(freshError)}`);
      }
      return;
    }
    // Tracked from here, so a failure below still releases it.
    const entry: Live = { index, script, tenant: hosted, releaseAt: index + script.hold };
    live.push(entry);
    tenants++;
    const initial = observeState(hosted.exports, shape);
    const isolation = stateDifference(observeState(fresh.exports, shape), initial);
    if (isolation !== null) throw new CaseFailure(index, `right after instantiation, ${isolation}`);

    if (stale.length > 0) {
      for (const [what, use] of stale) {
        const o = outcome(use);
        if (!('threw' in o) || !o.threw.startsWith('CowpoolError[LEASE_RELEASED]')) {
          throw new CaseFailure(index, `${what} on a released tenant ${describeOutcome(o)}; it must throw CowpoolError LEASE_RELEASED`);
        }
      }
      stale = [];
      const touched = stateDifference(initial, observeState(hosted.exports, shape));
      if (touched !== null) throw new CaseFailure(index, `using a released tenant's references changed this tenant: ${touched}`);
    }

    for (const [n, action] of script.actions.entries()) {
      const expected = runAction(fresh.exports, action);
      const actual = runAction(hosted.exports, action);
      if (!sameOutcome(expected, actual)) {
        throw new CaseFailure(index, `action ${n} ${describeAction(action)} ${describeOutcome(actual)}; on a fresh instance it ${describeOutcome(expected)}`);
      }
    }
    const after = stateDifference(observeState(fresh.exports, shape), observeState(hosted.exports, shape));
    if (after !== null) throw new CaseFailure(index, `after its ${script.actions.length} action(s), ${after}`);
  };

  let failure: IsolationFailure | null = null;
  const fail = (tenant: number | null, message: string): void => {
    const where = tenant === null ? '' : ` tenant ${tenant} (module ${c.tenants[tenant]?.module}: ${describeShape(c.shapes[c.tenants[tenant]?.module ?? 0] as ModuleShape)})`;
    failure = {
      seed: c.seed,
      target: host.name,
      tenant,
      message: `seed ${c.seed}, target ${host.name},${where}: ${message}`,
      replay: replayCommand(c.seed, host.name),
    };
  };

  try {
    await host.prepare(c.modules);
    for (const [index, script] of c.tenants.entries()) {
      runTenant(index, script);
      releaseDue(index);
    }
    releaseDue(Number.POSITIVE_INFINITY);
    const problem = host.health(faultsInjected);
    if (problem !== null) fail(null, problem);
  } catch (e) {
    if (e instanceof CaseFailure) fail(e.tenant, e.message);
    else fail(null, `the run threw ${thrownDescription(e)}${e instanceof Error && e.stack !== undefined ? `\n${e.stack}` : ''}`);
  } finally {
    for (const l of live.splice(0)) {
      try {
        l.tenant.release();
      } catch {
        // Cleaning up after a failure already reported; nothing more to learn here.
      }
    }
    host.close();
  }
  return { target: host.name, tenants, failure };
}
