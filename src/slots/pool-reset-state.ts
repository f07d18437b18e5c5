/**
 * One pool's reset state: what its resets counted and, per module it serves,
 * the `auto` policy's choice. A pool (InstancePool, RawSlotPool) owns one and
 * hands it to every reset of its slots; `close()` drops it. Nothing here is
 * shared between pools: two pools serving the same bytes with different
 * settings keep separate counters and separate policies. Only the kernel's
 * capabilities and the fault-cost calibration are process-wide
 * (memory-reset.ts).
 *
 *   pool ──owns──► PoolResetState
 *                    ├─ byMode:   active mode ──► ResetModeCounters
 *                    └─ byModule: module key  ──► ModuleResetEntry (counters, auto policy)
 *
 * Invariant: `#byMode` and `#byModule` are empty once closed, and stay so
 *            (every method that would add to them asserts the state is open).
 * Invariant: every counter only grows while open; `#byMode[m].resets` is the
 *            number of this pool's successful resets that ran in mode m.
 * Invariant: `#byModule[k].policy` is non-null iff the module's resets asked
 *            for `auto`; it is that module's policy in this pool only.
 */
import { CowpoolError } from '../errors.js';
import type { ActiveResetMode } from './reset-mode-table.js';
import type { NativeResetCalibration } from '../native/addon.js';
import type { AutoReport, AutoResetChooser, AutoResetChooserFactory } from './auto-reset-chooser.js';
import type { ResetRecord } from './reset-slot-state.js';
import type { ResetModeName } from './memory-reset.js';

/** Counters for one active mode (the pool puts them in stats()). */
export interface ResetModeCounters {
  resets: number;
  bytesCopied: number;
  bytesDiscarded: number;
  pagesScanned: number;
  /** Pages written since their slot's last reset, summed over the resets that track writes. */
  writtenPages: number;
  /** Private pages found, summed over the resets that looked (restore-dirty, or counted). */
  privatePagesFound: number;
  /** Total wall time of the reset calls. */
  micros: number;
  /** Resets that discarded everything because of trimEvery. */
  trims: number;
  /** Resets that discarded everything because private pages exceeded maxResidentBytes. */
  overCap: number;
  /** track-writes resets that found their range unregistered and registered it again. */
  rearms: number;
}

/** How one module's slots are reset in one pool. */
export interface ModuleResetStatistics {
  requested: ResetModeName;
  /** The mode its last reset ran in. */
  active: ActiveResetMode;
  resets: number;
  bytesCopied: number;
  micros: number;
  /** The auto policy's state, when requested is 'auto'. */
  auto: AutoReport | null;
}

/** The policy is kept by reference and reported only when statistics are read: resets stay allocation-light. */
interface ModuleResetEntry {
  requested: ResetModeName;
  active: ActiveResetMode | null;
  resets: number;
  bytesCopied: number;
  micros: number;
  policy: AutoResetChooser | null;
}

function emptyCounters(): ResetModeCounters {
  return { resets: 0, bytesCopied: 0, bytesDiscarded: 0, pagesScanned: 0, writtenPages: 0, privatePagesFound: 0, micros: 0, trims: 0, overCap: 0, rearms: 0 };
}

export class PoolResetState {
  readonly #byMode = new Map<ActiveResetMode, ResetModeCounters>();
  readonly #byModule = new Map<string, ModuleResetEntry>();
  #closed = false;

  /** `createAutoPolicy` makes each module's auto policy (src/policy/auto-reset-policy.ts's createAutoResetPolicy). */
  constructor(private readonly createAutoPolicy: AutoResetChooserFactory) {}

  /** The auto policy of module `key` in this pool, made on first use (see AutoResetChooserFactory; callers look it up with policyOf first). */
  autoPolicy(
    key: string,
    candidates: readonly ActiveResetMode[],
    calibration: NativeResetCalibration | null,
    trackWrites: boolean,
  ): AutoResetChooser {
    const entry = this.#entry(key, 'auto');
    entry.policy ??= this.createAutoPolicy(candidates, calibration, trackWrites);
    return entry.policy;
  }

  /** Records one successful reset of a slot serving module `key`. */
  count(key: string, record: ResetRecord, policy: AutoResetChooser | null): void {
    let c = this.#byMode.get(record.mode);
    if (c === undefined) {
      this.#assertOpen();
      c = emptyCounters();
      this.#byMode.set(record.mode, c);
    }
    c.resets += 1;
    c.bytesCopied += record.bytesCopied;
    c.bytesDiscarded += record.bytesDiscarded;
    c.pagesScanned += record.pagesScanned;
    c.writtenPages += record.writtenPages ?? 0;
    c.privatePagesFound += record.privatePagesFound ?? 0;
    c.micros += record.micros;
    if (record.trimmed) c.trims += 1;
    if (record.overCap) c.overCap += 1;
    if (record.rearmed) c.rearms += 1;

    const m = this.#entry(key, record.requested);
    m.requested = record.requested;
    m.active = record.mode;
    m.resets += 1;
    m.bytesCopied += record.bytesCopied;
    m.micros += record.micros;
    m.policy = policy;
  }

  /** A copy of the per-mode counters, keyed by active mode name. */
  statistics(): Record<string, ResetModeCounters> {
    const out: Record<string, ResetModeCounters> = {};
    for (const [mode, c] of this.#byMode) out[mode] = { ...c };
    return out;
  }

  /** How module `key`'s slots were reset here; undefined before its first reset. */
  module(key: string): ModuleResetStatistics | undefined {
    const m = this.#byModule.get(key);
    if (m === undefined || m.active === null) return undefined;
    return { requested: m.requested, active: m.active, resets: m.resets, bytesCopied: m.bytesCopied, micros: m.micros, auto: m.policy?.report() ?? null };
  }

  /** The auto policy of module `key` here, if auto has reset it (diagnostics, the bench, tests). */
  policyOf(key: string): AutoResetChooser | undefined {
    return this.#byModule.get(key)?.policy ?? undefined;
  }

  /** Module keys this state holds anything for (a closed state holds none). */
  get moduleKeys(): number {
    return this.#byModule.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Drops everything: the pool is closed and resets no slot any more. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#byMode.clear();
    this.#byModule.clear();
  }

  #entry(key: string, requested: ResetModeName): ModuleResetEntry {
    let m = this.#byModule.get(key);
    if (m === undefined) {
      this.#assertOpen();
      m = { requested, active: null, resets: 0, bytesCopied: 0, micros: 0, policy: null };
      this.#byModule.set(key, m);
    }
    return m;
  }

  #assertOpen(): void {
    if (this.#closed) throw new CowpoolError('POOL_CLOSED', 'a slot was reset for a closed pool; its reset state is gone');
  }
}
