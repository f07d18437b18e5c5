/**
 * The things the bench compares — "subjects" — behind one interface: each
 * turns a scenario into one synchronous operation on one module.
 *
 *   fresh, copy, cow:<reset mode>, reuse   an InstancePool with that strategy
 *   raw                                    a RawSlotPool: memory only, no V8 instance
 *
 * The same code runs in the main thread (tinybench tasks) and in the thread
 * workers, so both sections measure the same operation.
 */
import { parseConfig } from '../config/load-config.js';
import type { ResetMode } from '../config/pool-config-schema.js';
import { createPool, poolResetState, type InstancePool } from '../pool/instance-pool.js';
import type { AutoResetChooser } from '../slots/auto-reset-chooser.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { RawSlotPool } from '../pool/raw-slot-pool.js';
import type { MemoryCounters } from '../pool/memory-counters.js';
import type { PoolImage } from '../pool/pool-image.js';
import type { PreparedLayout } from '../wasm/prepared-layout.js';
import type { BenchScenario, BenchStrategy } from './bench-config-schema.js';
import type { SettleSummary } from './bench-results.js';
import type { CallTarget } from './call-target.js';
import { stubImports, type StubImports } from './stub-imports.js';

export interface SubjectSpec {
  /** Row label: `fresh`, `copy`, `cow:madvise`, ..., `reuse`, `raw`. */
  name: string;
  strategy: BenchStrategy;
  /** The pool's reset mode; null where no reset mode applies (fresh, copy). */
  resetMode: ResetMode | null;
}

/** The reset mode `reuse` and `raw` run with: the pool configuration's default. */
const DEFAULT_RESET_MODE: ResetMode = parseConfig({}).reset.mode;

/** The subjects for `strategies`, with one `cow` subject per reset mode, in the order given. */
export function subjectSpecs(strategies: readonly BenchStrategy[], resetModes: readonly ResetMode[]): SubjectSpec[] {
  return strategies.flatMap((strategy): SubjectSpec[] => {
    switch (strategy) {
      case 'fresh':
      case 'copy':
        return [{ name: strategy, strategy, resetMode: null }];
      case 'cow':
        return resetModes.map((mode) => ({ name: `cow:${mode}`, strategy, resetMode: mode }));
      case 'reuse':
      case 'raw':
        return [{ name: strategy, strategy, resetMode: DEFAULT_RESET_MODE }];
    }
  });
}

/** What the bench needs to know about a module to build operations on it (structured-cloneable, for workers). */
export interface SubjectModule {
  name: string;
  bytes: Uint8Array;
  layout: PreparedLayout;
  /** null: the module has no export that is safe to call. */
  callTarget: CallTarget | null;
}

/**
 * One operation, or why the scenario does not apply to this subject and
 * module. `settle` (cow:auto) runs the operation until the pool's reset
 * policy has settled on this workload; the bench calls it before each timed
 * phase, so a trial is never timed as the mode.
 */
export type Operation = { run: () => void; settle?: () => SettleSummary } | { skip: string };

/**
 * Settling: at least SETTLE_MIN operations (the policy's guard must see
 * enough tenancies to notice that the workload differs from the last task's),
 * then until it has stayed settled, without a new trial, for SETTLE_STABLE
 * operations; SETTLE_MAX at most.
 */
const SETTLE_MIN = 80;
const SETTLE_STABLE = 60;
const SETTLE_MAX = 2000;

/**
 * Runs `run` until the pool's auto policy for the module (`autoPolicy()`,
 * made by the first reset) has settled (see SETTLE_*). The policy is shared
 * by the module's scenarios, which the bench interleaves:
 * it measures again first, so each row shows what auto chooses for that
 * row's workload (a policy left alone re-measures on its own schedule).
 */
function settleAuto(run: () => void, autoPolicy: () => AutoResetChooser | undefined): SettleSummary {
  const policy = () => autoPolicy()?.report() ?? null;
  const t0 = performance.now();
  autoPolicy()?.remeasure();
  let operations = 0;
  let stable = 0;
  let trials = policy()?.trials ?? -1;
  while (operations < SETTLE_MAX) {
    run();
    operations += 1;
    const p = policy();
    if (p === null) break;
    if (p.phase === 'settled' && p.trials === trials) stable += 1;
    else {
      stable = 0;
      trials = p.trials;
    }
    if (operations >= SETTLE_MIN && stable >= SETTLE_STABLE) break;
  }
  const p = policy();
  return { operations, ms: performance.now() - t0, mode: p?.phase === 'settled' ? p.mode : null };
}

export interface OpenSubject {
  readonly spec: SubjectSpec;
  /** Non-null when a pooled strategy serves the module by plain V8 instantiation. */
  readonly fallback: string | null;
  operation(scenario: BenchScenario): Operation;
  /**
   * Resets that failed so far. The pool does not throw a failed reset at the
   * tenant (the slot goes `unknown` and is fully reset on next use), so this
   * count is how the bench notices a reset mode that does not work here.
   */
  resetFailures(): number;
  /** The pool's memory counters (zeros for subjects without one). */
  memory(): MemoryCounters;
  close(): void;
}

const NO_MEMORY_COUNTERS: MemoryCounters = { bytesRestored: 0, residentPrivateBytes: 0 };

/** Bytes `dirty_1mb_of_memory` writes over: 1 MiB, one byte per 4 KiB page. */
export const DIRTY_BYTES = 1 << 20;
const DIRTY_STRIDE = 4096;

/** Written by every operation so nothing it computes can be dropped as unused. */
let sink = 0;

/** Writes one byte into each 4 KiB page of the first `bytes` of `buffer`. */
function dirtyPages(buffer: ArrayBuffer, bytes: number): void {
  const view = new Uint8Array(buffer, 0, Math.min(bytes, buffer.byteLength));
  for (let offset = 0; offset < view.length; offset += DIRTY_STRIDE) view[offset] = 0xa5;
  sink += view.length;
}

function noMemoryReason(module: SubjectModule): string | null {
  return module.layout.memory === null ? 'the module has no memory to dirty' : null;
}

function noCallReason(module: SubjectModule): string {
  return `${module.name} exports no function that is safe to call without arguments (no empty or trivial export)`;
}

/** An InstancePool subject (fresh, copy, cow, reuse). */
async function openPoolSubject(spec: SubjectSpec, module: SubjectModule): Promise<OpenSubject> {
  const pool: InstancePool = createPool({
    strategy: spec.strategy as 'fresh' | 'copy' | 'cow' | 'reuse',
    reset: { mode: spec.resetMode ?? DEFAULT_RESET_MODE },
    // One slot serves a single-threaded loop; a few spare keep a slow GC from exhausting the pool.
    limits: { maxSlots: 8 },
  });
  let prepared: PreparedModule;
  try {
    prepared = await pool.prepare(module.bytes, { name: module.name });
  } catch (e) {
    pool.close();
    throw e;
  }
  const stubs: StubImports = stubImports(module.layout, module.name, prepared.pooled);
  // reuse keeps an instance only for a tenant linking the same import values, as a server reusing one would.
  const shared = spec.strategy === 'reuse' ? stubs.next() : null;
  const target = module.callTarget?.name ?? null;
  const settleable = (run: () => void) =>
    spec.resetMode === 'auto' && prepared.pooled ? { run, settle: () => settleAuto(run, () => poolResetState(pool).policyOf(prepared.slotKey)) } : { run };
  const instantiate = () => {
    const { imports, memory } = shared ?? stubs.next();
    return { lease: pool.instantiate(prepared, imports), memory };
  };
  return {
    spec,
    fallback: prepared.fallbackReason === null ? null : `${prepared.fallbackReason}: ${prepared.fallbackDetail ?? ''}`,
    operation(scenario) {
      switch (scenario) {
        case 'instantiate_only':
          return settleable(() => instantiate().lease.release());
        case 'call_empty_function': {
          if (target === null) return { skip: noCallReason(module) };
          return settleable(() => {
            const { lease } = instantiate();
            (lease.exports[target] as () => unknown)();
            lease.release();
          });
        }
        case 'dirty_1mb_of_memory': {
          const reason = noMemoryReason(module);
          if (reason !== null) return { skip: reason };
          return settleable(() => {
            const { lease, memory } = instantiate();
            // The pool's memory, V8's exported memory, or the one made for an importing module.
            const mem = lease.memory ?? memory;
            if (mem !== null) dirtyPages(mem.buffer, DIRTY_BYTES);
            lease.release();
          });
        }
      }
    },
    resetFailures: () => pool.stats().resetFailures,
    memory: () => pool.stats().memory,
    close: () => pool.close(),
  };
}

/** The raw RawSlotPool subject: acquire a slot holding the module's image, release it. */
function openRawSubject(spec: SubjectSpec, module: SubjectModule): OpenSubject {
  const layout = module.layout;
  const unavailable = (reason: string): OpenSubject => ({
    spec,
    fallback: null,
    operation: () => ({ skip: reason }),
    resetFailures: () => 0,
    memory: () => NO_MEMORY_COUNTERS,
    close: () => undefined,
  });
  if (!layout.cow || layout.memory === null) {
    return unavailable(`raw slots hold a copy-on-write image; this module is not served that way (${layout.fallbackReason ?? 'no memory'})`);
  }
  const initialBytes = layout.memory.initialPages * 65536;
  const slotBytes = Math.max(65536, initialBytes);
  const pool = new RawSlotPool({
    reset: { mode: spec.resetMode ?? DEFAULT_RESET_MODE },
    limits: { maxSlots: 8, maxMemoryBytesPerSlot: slotBytes, guardBytes: '64KiB' },
  });
  let image: PoolImage | null;
  try {
    image = layout.image.length === 0 ? null : pool.image(layout.image);
  } catch (e) {
    pool.close();
    throw e;
  }
  const options = { initialBytes, maxBytes: slotBytes };
  return {
    spec,
    fallback: null,
    operation(scenario) {
      switch (scenario) {
        case 'instantiate_only':
          return { run: () => pool.acquire(image, options).release() };
        case 'call_empty_function':
          return { skip: 'raw slots are memory only: there is no V8 instance whose function could be called' };
        case 'dirty_1mb_of_memory':
          return {
            run: () => {
              const lease = pool.acquire(image, options);
              dirtyPages(lease.buffer, DIRTY_BYTES);
              lease.release();
            },
          };
      }
    },
    resetFailures: () => pool.stats().resetFailures,
    memory: () => pool.stats().memory,
    close: () => {
      image?.release();
      pool.close();
    },
  };
}

/**
 * Opens `spec` on `module`: creates its pool and prepares the module.
 * Throws what the pool throws (e.g. a reset mode the platform lacks); the
 * caller reports that subject as unavailable.
 */
export async function openSubject(spec: SubjectSpec, module: SubjectModule): Promise<OpenSubject> {
  return spec.strategy === 'raw' ? openRawSubject(spec, module) : openPoolSubject(spec, module);
}

/** The sink's value; reading it keeps the operations' writes observable. */
export function operationSink(): number {
  return sink;
}
