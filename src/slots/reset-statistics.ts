/**
 * Process-wide (per thread: each worker loads its own copy) reset counters:
 * per active mode, and per module key with the mode each module runs in.
 *
 * Invariant: every counter only grows; `byMode[m].resets` is the number of
 *            successful resets that ran in mode m.
 */
import type { ActiveResetMode } from './reset-active-mode.js';
import type { AutoReport, AutoResetPolicy } from './reset-auto-policy.js';
import type { ResetRecord } from './reset-slot-state.js';
import type { ResetModeName } from './memory-reset.js';

/** Counters for one active mode (the pool puts them in stats()). */
export interface ResetModeCounters {
  resets: number;
  bytesCopied: number;
  bytesDiscarded: number;
  pagesScanned: number;
  dirtyPages: number;
  /** Total wall time of the reset calls. */
  micros: number;
  /** Resets that discarded everything because of trimEvery. */
  trims: number;
  /** Resets that discarded everything because private pages exceeded maxResidentBytes. */
  overCap: number;
  /** track-writes resets that found their range unregistered and registered it again. */
  rearms: number;
}

/** How one module's slots are reset. */
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

const byMode = new Map<string, ResetModeCounters>();
/** The policy is kept by reference and reported only when statistics are read: resets stay allocation-light. */
const byModule = new Map<string, Omit<ModuleResetStatistics, 'auto'> & { policy: AutoResetPolicy | null }>();

function emptyCounters(): ResetModeCounters {
  return { resets: 0, bytesCopied: 0, bytesDiscarded: 0, pagesScanned: 0, dirtyPages: 0, micros: 0, trims: 0, overCap: 0, rearms: 0 };
}

/** Records one reset done in `mode`. Only bytesCopied is needed; a full record fills the rest. */
export function countReset(mode: string, bytesCopied: number, record?: ResetRecord): void {
  let c = byMode.get(mode);
  if (c === undefined) {
    c = emptyCounters();
    byMode.set(mode, c);
  }
  c.resets += 1;
  c.bytesCopied += bytesCopied;
  if (record === undefined) return;
  c.bytesDiscarded += record.bytesDiscarded;
  c.pagesScanned += record.pagesScanned;
  c.dirtyPages += record.dirtyPages;
  c.micros += record.micros;
  if (record.trimmed) c.trims += 1;
  if (record.overCap) c.overCap += 1;
  if (record.rearmed) c.rearms += 1;
}

export function countModuleReset(key: string, record: ResetRecord, policy: AutoResetPolicy | null): void {
  let m = byModule.get(key);
  if (m === undefined) {
    m = { requested: record.requested, active: record.mode, resets: 0, bytesCopied: 0, micros: 0, policy: null };
    byModule.set(key, m);
  }
  m.requested = record.requested;
  m.active = record.mode;
  m.resets += 1;
  m.bytesCopied += record.bytesCopied;
  m.micros += record.micros;
  m.policy = policy;
}

/** A copy of the per-mode counters, keyed by active mode name. */
export function resetStatistics(): Record<string, ResetModeCounters> {
  const out: Record<string, ResetModeCounters> = {};
  for (const [mode, c] of byMode) out[mode] = { ...c };
  return out;
}

/** A copy of the per-module statistics, keyed by module key (see ResetContext.key). */
export function resetModuleStatistics(): Record<string, ModuleResetStatistics> {
  const out: Record<string, ModuleResetStatistics> = {};
  for (const [key, { policy, ...m }] of byModule) out[key] = { ...m, auto: policy === null ? null : policy.report() };
  return out;
}
