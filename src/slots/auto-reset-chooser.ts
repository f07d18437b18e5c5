/**
 * What a reset needs from the `auto` policy, and what it tells it. The
 * policy itself (pure: trials, pricing, guards) is src/policy/auto-reset-policy.ts;
 * a pool hands its factory to its PoolResetState, so the slots call the
 * policy without importing it (dependencies point one way: slots → policy).
 *
 *   reset ──mode?──► AutoResetChooser ──observe(AutoObservation)──► next choice
 */
import type { NativeResetCalibration } from '../native/addon.js';
import type { ActiveResetMode } from './reset-mode-table.js';

/** One reset, as memory-reset.ts saw it. */
export interface AutoObservation {
  readonly mode: ActiveResetMode;
  /** Wall time of the reset call. */
  readonly micros: number;
  /** Copy-on-write faults the previous tenant took because of the reset before; null when unknown. */
  readonly cowFaults: number | null;
  /** Write-protect faults it took; null when unknown. */
  readonly wpFaults: number | null;
  /**
   * Every minor fault the thread took during the previous tenancy (from the
   * end of the reset before to the start of this one), write-protect faults
   * included; null when not counted.
   */
  readonly tenantFaults: number | null;
  /** Pages the previous tenant wrote, when known exactly (madvise with counting, track-writes). */
  readonly writtenPages: number | null;
  /** Pages this reset copied back. */
  readonly copiedPages: number;
  /** Private pages left resident after this reset; null when not counted. */
  readonly privatePages: number | null;
  /** Most private pages the slot can hold: its pages, or fewer under maxResidentBytes. */
  readonly privateLimit: number;
  /** The slot's previous reset used another mode, so this one is not representative. */
  readonly warmup: boolean;
}

export interface AutoReport {
  readonly phase: 'trial' | 'settled';
  readonly mode: ActiveResetMode;
  readonly candidates: readonly ActiveResetMode[];
  /** Estimated cost per reset (µs) of each candidate at the last completed trial; null if not measured. */
  readonly estimatesUs: Readonly<Partial<Record<ActiveResetMode, number | null>>>;
  /** Why the current mode was chosen, for people. */
  readonly reason: string;
  readonly resets: number;
  readonly trials: number;
}


/** One module's auto policy, as the reset sees it. */
export interface AutoResetChooser {
  /** The mode the next reset runs in. */
  readonly mode: ActiveResetMode;
  /** The modes it chooses between; madvise first. */
  readonly candidates: readonly ActiveResetMode[];
  /** The next reset should count private pages (it costs a scan). */
  readonly wantsCounts: boolean;
  /** The tenancy after the reset just observed should have its faults counted. */
  readonly wantsTenantFaults: boolean;
  /** The process's measurement its prices come from; null while it prices with the fallback. */
  readonly calibration: NativeResetCalibration | null;
  /** `o` is reused for the next reset: read it during the call, never keep it. */
  observe(o: AutoObservation): void;
  /** The measurement arrived: price with it from now on. */
  recalibrate(calibration: NativeResetCalibration): void;
  /** Starts a new trial now (the caller knows the workload changed). */
  remeasure(): void;
  report(): AutoReport;
}

/**
 * Makes a module's auto policy: the candidates the kernel offers here, the
 * process's measured prices (null until measured) and whether write
 * tracking is available (for the fallback prices).
 */
export type AutoResetChooserFactory = (
  candidates: readonly ActiveResetMode[],
  calibration: NativeResetCalibration | null,
  trackWrites: boolean,
) => AutoResetChooser;
