/**
 * The prices the `auto` reset policy charges: a fault a tenant takes on a
 * page the reset dropped, a write-protect fault, a page copied back. Measured
 * once per process (the addon's calibrateReset, off the JS thread); until
 * then, or if that fails, the fallback prices. Pure.
 */
import type { NativeResetCalibration } from '../native/addon.js';

export interface ResetCostModel {
  /** µs per fault a tenant takes on a page a reset dropped (copy-on-write or zero-fill, the dearer). */
  readonly cowFaultUs: number;
  /** µs per async write-protect fault; null when write tracking is unavailable. */
  readonly wpFaultUs: number | null;
  /** µs to copy one page back. */
  readonly copyPageUs: number;
}

/**
 * Prices used until (or, if it fails, instead of) the measurement: a fault
 * as dear as on the slowest host measured (DESIGN.md, "Measured since"), so
 * the modes that spare the tenant faults are not underpriced meanwhile.
 */
const FALLBACK_MODEL: ResetCostModel = { cowFaultUs: 10, wpFaultUs: 2, copyPageUs: 0.15 };

export function fallbackCostModel(trackWrites: boolean): ResetCostModel {
  return trackWrites ? FALLBACK_MODEL : { ...FALLBACK_MODEL, wpFaultUs: null };
}

export function costModelOf(c: NativeResetCalibration): ResetCostModel {
  return {
    // A tenant's faults after a reset are copy-on-write (image pages) or zero-fill (the rest): price the dearer.
    cowFaultUs: Math.max(c.cowFaultNs, c.zeroFaultNs) / 1000,
    wpFaultUs: c.wpFaultNs === null ? null : c.wpFaultNs / 1000,
    copyPageUs: c.copyPageNs / 1000,
  };
}
