/**
 * What the reset needs to remember about one slot between tenants.
 *
 *   slot range:  |<-- kept private: restored in place, still resident -->|<-- not private -->|
 *                 keptPrivatePages counts them (null: not known exactly)
 *
 * Invariant: resetsSinceDiscard counts resets since the last one that dropped
 *            every private page (madvise, trim, over-cap, re-arm); 0 after such a reset.
 * Invariant: keptPrivatePages is the exact number of private pages the last
 *            reset left resident, or null when that is not known (after a
 *            remap, a failed reset, or a track-writes reset that did not count).
 * Invariant: privateUpperBound ≥ the true number of private pages whenever
 *            keptPrivatePages is null (track-writes adds every written page to it).
 * Invariant: trackingFailed is set when registering this slot's range for
 *            write tracking failed; cleared by remapped() (a new mapping may register).
 * Invariant: lastMode is the mode of the last successful reset since the last
 *            remap or failure, null when there was none (so whether the range is
 *            registered for write tracking is not known).
 * Invariant: last describes the last successful reset (null before the first);
 *            it is never cleared, so it still reports after a remap.
 * Invariant: tenancyFaultsAt is the thread's minor-fault count when the last
 *            reset ended, when the auto policy asked to count the tenancy
 *            after it; null otherwise (and after a remap or failure).
 */
import type { ActiveResetMode } from './reset-mode-table.js';
import type { ResetModeName } from './memory-reset.js';

/** One reset of one slot, as reported by `SlotResetState.last`. */
export interface ResetRecord {
  /** The mode the settings asked for. */
  readonly requested: ResetModeName;
  /** The mode that ran (after fallbacks and, for auto, the policy's choice). */
  readonly mode: ActiveResetMode;
  readonly micros: number;
  readonly bytesCopied: number;
  readonly bytesDiscarded: number;
  readonly pagesScanned: number;
  /** Pages written since the last reset (track-writes); null when the mode does not track writes. */
  readonly writtenPages: number | null;
  /** Private pages the reset found before restoring or dropping them (restore-dirty, or counted); null when it did not look. */
  readonly privatePagesFound: number | null;
  /** Private pages left resident; null when not known. */
  readonly privatePagesKept: number | null;
  /** Everything was discarded because of trimEvery. */
  readonly trimmed: boolean;
  /** Everything was discarded because private pages exceeded maxResidentBytes. */
  readonly overCap: boolean;
  /** track-writes found the range unregistered (after a remap) and registered it again. */
  readonly rearmed: boolean;
}

export class SlotResetState {
  resetsSinceDiscard = 0;
  keptPrivatePages: number | null = 0;
  privateUpperBound = 0;
  trackingFailed = false;
  /** The mode of the last successful reset, null before the first. */
  lastMode: ActiveResetMode | null = null;
  last: ResetRecord | null = null;
  tenancyFaultsAt: number | null = null;

  /**
   * The slot's pages were replaced by a new mapping (mapImage, configure, a
   * new memory): what was counted before says nothing about them.
   */
  remapped(): void {
    this.keptPrivatePages = null;
    this.privateUpperBound = Number.POSITIVE_INFINITY;
    this.resetsSinceDiscard = 0;
    this.trackingFailed = false;
    this.lastMode = null;
    this.tenancyFaultsAt = null;
  }

  /** A reset threw: the slot is `unknown` and the next reset is not a fair sample. */
  failed(): void {
    this.keptPrivatePages = null;
    this.privateUpperBound = Number.POSITIVE_INFINITY;
    this.lastMode = null;
    this.tenancyFaultsAt = null;
  }
}
