/**
 * One isolation fuzz case: a pure function of its seed. A few generated
 * modules share a small pool (so slots pass between modules: affinity hits,
 * cold slots and evictions), and a script of tenants says which module each
 * one instantiates, what it does, how long it holds its slot, whether the
 * host keeps references to it past release, and where system calls fail.
 */
import { emitModule } from './emit-module.js';
import type { FaultSpec } from './isolation-host.js';
import { randomModuleShape, type ModuleShape } from './module-shape.js';
import { Prng } from './prng.js';
import { randomTenantActions, type TenantAction } from './tenant-actions.js';

export interface TenantScript {
  module: number;
  actions: TenantAction[];
  /** Released after this many later tenants have started (0: before the next one starts). */
  hold: number;
  /** The host keeps the lease, its exports view and a function, and uses them after release. */
  leak: boolean;
  faultOnAcquire: FaultSpec | null;
  faultOnRelease: FaultSpec | null;
}

/** The pool limits a case runs under (every target of the case uses the same). */
export interface CaseLimits {
  maxSlots: number;
  maxUnusedWarmSlots: number;
  maxImageBytes: number;
}

export interface IsolationCase {
  seed: number;
  shapes: ModuleShape[];
  modules: Uint8Array[];
  limits: CaseLimits;
  tenants: TenantScript[];
}

export interface CaseOptions {
  /** Inject mmap/madvise failures around some acquires and releases. Default true. */
  faults?: boolean;
}

function fault(prng: Prng, syscalls: readonly FaultSpec['syscall'][]): FaultSpec {
  return { syscall: prng.pick(syscalls), after: prng.int(0, 1) };
}

/** How many of tenants [0, t] are still held when tenant `u` starts. */
function heldAt(tenants: readonly TenantScript[], u: number): number {
  let held = 0;
  for (let i = 0; i < tenants.length && i < u; i++) if (i + (tenants[i]?.hold ?? 0) >= u) held++;
  return held;
}

export function generateCase(seed: number, options: CaseOptions = {}): IsolationCase {
  const prng = new Prng(seed);
  const faults = options.faults ?? true;
  const shapes: ModuleShape[] = [];
  for (let i = prng.weighted<number>([[30, 1], [45, 2], [25, 3]]); i > 0; i--) shapes.push(randomModuleShape(prng.fork()));
  const limits: CaseLimits = {
    maxSlots: prng.int(1, 3),
    maxUnusedWarmSlots: prng.int(0, 2),
    // Sometimes small, so some modules fall back to plain instantiation (image-over-limit) beside pooled ones.
    maxImageBytes: prng.chance(0.15) ? 8192 : 256 * 1024 * 1024,
  };
  const tenants: TenantScript[] = [];
  const count = prng.int(6, 14);
  for (let t = 0; t < count; t++) {
    const module = prng.int(0, shapes.length - 1);
    const actions = randomTenantActions(prng.fork(), shapes[module] as ModuleShape, prng.int(0, 10));
    let hold = prng.weighted<number>([[75, 0], [17, 1], [8, 2]]);
    tenants.push({
      module,
      actions,
      hold,
      leak: prng.chance(0.2),
      faultOnAcquire: faults && prng.chance(0.06) ? fault(prng, ['mmap']) : null,
      faultOnRelease: faults && prng.chance(0.1) ? fault(prng, ['madvise', 'mmap']) : null,
    });
    // Never hold more leases than the pool has slots: exhaustion is tested elsewhere.
    while (hold > 0) {
      let fits = true;
      for (let u = t + 1; u <= t + hold; u++) if (heldAt(tenants, u) + 1 > limits.maxSlots) fits = false;
      if (fits) break;
      hold -= 1;
      (tenants[t] as TenantScript).hold = hold;
    }
  }
  return { seed, shapes, modules: shapes.map((s) => emitModule(s)), limits, tenants };
}
