/**
 * Runs a ReentrantCase on one pool configuration, side by side with plain
 * V8. The oracle is the isolation property, not a policy: a release() from
 * inside the run may be refused (LEASE_IN_CALL) or go through, but either
 * way every tenant — the ones instantiated inside the callback, the ones
 * kept past the run, and every later one — must show exactly what a fresh
 * V8 instance shows, and a run whose tenant was not released inside must end
 * in exactly the state the fresh run ends in.
 *
 *   tenant R ──run(a, v, n)──► cb(i) ──actor──► release | instantiate | close | nested run
 *            ◄── store at a + 4096 i + 1 after each callback (lands in the next tenant if the slot was given back)
 */
import type { ResetMode, Strategy } from '../config/pool-config-schema.js';
import { isCowpoolError } from '../errors.js';
import { InstancePool } from '../pool/instance-pool.js';
import type { Lease } from '../pool/lease.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import type { IsolationCase } from './isolation-case.js';
import type { ModuleShape } from './module-shape.js';
import { observeState, stateDifference } from './observed-state.js';
import { describeActor, type HostActor, type ReentrantCase, type ReentryPath } from './reentrant-case.js';
import { thrownDescription } from './run-action.js';
import { replayCommand, type HostRun } from './run-isolation-case.js';

/** The pool configuration a re-entrant case runs on; `replayTarget` is the `--target` that replays it. */
export interface ReentrantTarget {
  name: string;
  replayTarget: string;
  strategy: Strategy;
  mode: ResetMode;
  /**
   * The fuzzer's check on itself: release() inside the run bypasses the
   * pool's in-call refusal (as the pool did before it had one), so a test
   * can prove the oracle sees what such a give-back leaks.
   */
  unguardedRelease?: boolean;
}

type Run = (address: number, value: number, steps: number) => void;

class ReentrantFailure extends Error {
  constructor(
    readonly tenant: number,
    message: string,
  ) {
    super(message);
  }
}

interface Held {
  lease: Lease;
  fresh: WebAssembly.Instance;
  shape: ModuleShape;
  what: string;
}

/** The running R tenant, as its callback sees it. */
interface Running {
  lease: Lease;
  run: Run;
  address: number;
  value: number;
  actors: readonly HostActor[];
  nested: boolean;
  releasedInside: boolean;
}

function releaseUnguarded(lease: Lease): void {
  const calls = lease.calls;
  const depth = calls.depth;
  calls.depth = 0;
  try {
    lease.release();
  } finally {
    calls.depth = depth;
  }
}

function entry(lease: Lease, path: ReentryPath): Run {
  switch (path) {
    case 'view':
      return lease.exports.run as Run;
    case 'raw':
      return lease.instance.exports.run as Run;
    case 'table':
      return (lease.instance.exports.tab as WebAssembly.Table).get(0) as Run;
  }
}

export async function runReentrantCase(c: ReentrantCase, main: IsolationCase, target: ReentrantTarget): Promise<HostRun> {
  const pool = new InstancePool({
    strategy: target.strategy,
    limits: { ...main.limits },
    reset: { mode: target.mode },
    exhausted: { policy: 'throw' },
  });
  const refMain = main.modules.map((bytes) => new WebAssembly.Module(bytes));
  const refR = new WebAssembly.Module(c.bytes);
  const held: Held[] = [];
  let tenants = 0;
  let index = 0;
  let closed = false;
  let running: Running | null = null;

  const fail = (message: string): never => {
    throw new ReentrantFailure(index, message);
  };

  const tryRelease = (r: Running, where: string): void => {
    try {
      if (target.unguardedRelease === true) releaseUnguarded(r.lease);
      else r.lease.release();
      r.releasedInside = true;
    } catch (e) {
      if (isCowpoolError(e, 'LEASE_IN_CALL')) return;
      if (isCowpoolError(e, 'LEASE_RELEASED') && r.releasedInside) return;
      fail(`release() ${where} threw ${thrownDescription(e)}; it must either be refused with LEASE_IN_CALL or go through`);
    }
  };

  // One imports object for every R tenant (so `reuse` can keep its instance); the callback acts for whoever runs.
  const rImports = {
    host: {
      cb: (step: number): void => {
        const r = running;
        if (r === null) return;
        if (r.nested) {
          tryRelease(r, 'inside a nested run');
          return;
        }
        const act = r.actors[step] ?? { kind: 'none' };
        switch (act.kind) {
          case 'none':
            return;
          case 'release':
            tryRelease(r, 'inside the run');
            return;
          case 'instantiate': {
            const t = instantiate(act.module, true);
            if (t === null) return;
            if (act.keep) held.push(t);
            else t.lease.release();
            return;
          }
          case 'close':
            pool.close();
            closed = true;
            return;
          case 'nested':
            r.nested = true;
            try {
              r.run(r.address, r.value, 1);
            } finally {
              r.nested = false;
            }
        }
      },
    },
  };
  // The fresh side makes the same calls into its instance, and nothing else.
  const freshRun = (address: number, value: number, actors: readonly HostActor[]): WebAssembly.Instance => {
    let nested = false;
    let instance: WebAssembly.Instance | null = null;
    instance = new WebAssembly.Instance(refR, {
      host: {
        cb: (step: number) => {
          if (nested || actors[step]?.kind !== 'nested') return;
          nested = true;
          (instance!.exports.run as Run)(address, value, 1);
          nested = false;
        },
      },
    });
    (instance.exports.run as Run)(address, value, actors.length);
    return instance;
  };

  let prepared: PreparedModule[] = [];
  let preparedR: PreparedModule;

  /**
   * A tenant of module `module` (-1: R) and its plain V8 twin, compared at
   * once; null when the pool may rightly refuse. `reuse` does not rewind
   * what a start function wrote (SECURITY.md), so under it a module with one
   * is replaced by R.
   */
  function instantiate(requested: number, inside: boolean): Held | null {
    const module = target.strategy === 'reuse' && requested >= 0 && main.shapes[requested]?.start !== null ? -1 : requested;
    const shape = module < 0 ? c.shape : (main.shapes[module] as ModuleShape);
    const what = `${inside ? 'a tenant instantiated inside the run' : 'tenant'} of module ${module < 0 ? 'R' : module}`;
    let lease: Lease | null = null;
    let error: unknown = null;
    try {
      lease = module < 0 ? pool.instantiate(preparedR, rImports) : pool.instantiate(prepared[module] as PreparedModule);
    } catch (e) {
      // Exhaustion (slots held by the running tenant and kept ones) and a closed pool are right answers here.
      if (inside && (isCowpoolError(e, 'POOL_EXHAUSTED') || isCowpoolError(e, 'POOL_CLOSED'))) return null;
      error = e;
    }
    let fresh: WebAssembly.Instance | null = null;
    let freshError: unknown = null;
    try {
      fresh = new WebAssembly.Instance(module < 0 ? refR : (refMain[module] as WebAssembly.Module), module < 0 ? { host: { cb: () => undefined } } : {});
    } catch (e) {
      freshError = e;
    }
    if (lease === null || fresh === null) {
      lease?.release();
      if ((lease === null) !== (fresh === null)) {
        fail(`${what}: ${lease === null ? `instantiation failed (${thrownDescription(error)})` : 'instantiation succeeded'}, a fresh V8 instance ${fresh === null ? `fails (${thrownDescription(freshError)})` : 'succeeds'}`);
      }
      return null;
    }
    tenants++;
    const difference = stateDifference(observeState(fresh.exports, shape), observeState(lease.exports, shape));
    if (difference !== null) {
      lease.release();
      fail(`${what}, right after instantiation: ${difference}`);
    }
    return { lease, fresh, shape, what };
  }

  const runTenant = (t: ReentrantCase['tenants'][number]): void => {
    if (t.kind === 'plain') {
      instantiate(t.module, false)?.lease.release();
      return;
    }
    const fresh = freshRun(t.address, t.value, t.actors);
    const tenant = instantiate(-1, false);
    if (tenant === null) return;
    const r: Running = { lease: tenant.lease, run: entry(tenant.lease, t.path), address: t.address, value: t.value, actors: t.actors, nested: false, releasedInside: false };
    running = r;
    let threw: unknown = null;
    try {
      r.run(t.address, t.value, t.actors.length);
    } catch (e) {
      threw = e;
    } finally {
      running = null;
    }
    const script = `run(${t.address}, ${t.value}) via ${t.path}, actors [${t.actors.map(describeActor).join(', ')}]`;
    if (threw instanceof ReentrantFailure) throw threw;
    // Once its tenant released itself, the run may fail on its own released lease; otherwise it must end as the fresh run did.
    if (threw !== null && !r.releasedInside) fail(`${script} threw ${thrownDescription(threw)}; the fresh run returned`);
    if (!r.releasedInside) {
      const difference = stateDifference(observeState(fresh.exports, c.shape), observeState(r.lease.exports, c.shape));
      if (difference !== null) fail(`after ${script}: ${difference}`);
      try {
        r.lease.release();
      } catch (e) {
        fail(`release() after ${script} threw ${thrownDescription(e)}`);
      }
    }
    // Tenants kept from inside the run: nobody may have written into them since.
    for (const h of held.splice(0)) {
      const difference = stateDifference(observeState(h.fresh.exports, h.shape), observeState(h.lease.exports, h.shape));
      h.lease.release();
      if (difference !== null) fail(`${h.what} (${script}), after the run returned: ${difference}`);
    }
  };

  let failure: HostRun['failure'] = null;
  try {
    prepared = [];
    for (const [i, bytes] of main.modules.entries()) prepared.push(await pool.prepare(bytes, { name: `module ${i}` }));
    preparedR = await pool.prepare(c.bytes, { name: 'module R' });
    for (const [i, t] of c.tenants.entries()) {
      index = i;
      runTenant(t);
      if (closed) break;
    }
    const active = pool.stats().leases.active;
    if (active !== 0) fail(`${active} lease(s) still counted active after every tenant released`);
  } catch (e) {
    const message = e instanceof ReentrantFailure ? e.message : `the run threw ${thrownDescription(e)}`;
    failure = {
      seed: c.seed,
      target: target.name,
      tenant: index,
      message: `seed ${c.seed}, target ${target.name}, re-entrant tenant ${index}: ${message}`,
      replay: replayCommand(c.seed, target.replayTarget),
    };
  } finally {
    for (const h of held.splice(0)) {
      try {
        h.lease.release();
      } catch {
        // Cleaning up after a failure already reported.
      }
    }
    pool.close();
  }
  return { target: target.name, tenants, failure };
}
