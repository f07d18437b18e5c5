/**
 * Which reset a slot actually gets, given what was asked for and what the
 * kernel offers. Pure: the facilities come in as data.
 *
 *   requested        falls back to, in order, when a facility is missing
 *   track-writes ──► restore-dirty ──► restore-dirty-pread ──► madvise
 *   restore-dirty ─────────────────► restore-dirty-pread ──► madvise
 *   keep-resident, madvise: always available
 */
import { NativeResetMode, type NativeResetSupport } from '../native/addon.js';

/** A reset the addon performs. `restore-dirty-pread` is restore-dirty reading raw pagemap entries (older kernels). */
export type ActiveResetMode = 'madvise' | 'keep-resident' | 'restore-dirty' | 'restore-dirty-pread' | 'track-writes';

export const ACTIVE_RESET_MODES: readonly ActiveResetMode[] = [
  'madvise',
  'keep-resident',
  'restore-dirty',
  'restore-dirty-pread',
  'track-writes',
];

/** A kernel facility a reset mode needs; the names COWPOOL_DISABLE and `ResetSettings.disable` accept. */
export type ResetFeature = 'uffd' | 'pagemap_scan' | 'pagemap_read';

export const RESET_FEATURES: readonly ResetFeature[] = ['uffd', 'pagemap_scan', 'pagemap_read'];

/** What this process can use, after the addon's probe and the settings' `disable` list. */
export interface ResetCapabilities {
  readonly trackWrites: boolean;
  readonly pagemapScan: boolean;
  readonly pagemapRead: boolean;
  /** Why each missing facility is missing, for people. */
  readonly reasons: Readonly<Partial<Record<ResetFeature, string>>>;
}

export function resetCapabilities(support: NativeResetSupport, disable: readonly ResetFeature[] = []): ResetCapabilities {
  const reasons: Partial<Record<ResetFeature, string>> = {};
  const check = (feature: ResetFeature, available: boolean, reason: string | null): boolean => {
    if (disable.includes(feature)) {
      reasons[feature] = 'disabled by reset.disable';
      return false;
    }
    if (!available) reasons[feature] = reason ?? 'unavailable';
    return available;
  };
  const pagemapRead = check('pagemap_read', support.pagemapRead.available, support.pagemapRead.reason);
  const pagemapScan = check('pagemap_scan', support.pagemapScan.available, support.pagemapScan.reason);
  // Written state is read through PAGEMAP_SCAN: without it userfaultfd is useless.
  let trackWrites = check('uffd', support.userfaultfd.available, support.userfaultfd.reason);
  if (trackWrites && !pagemapScan) {
    reasons.uffd = 'needs pagemap_scan to read which pages were written';
    trackWrites = false;
  }
  return { trackWrites, pagemapScan, pagemapRead, reasons };
}

/** The best restore-dirty variant available, or madvise when pagemap cannot be read at all. */
export function restoreDirtyMode(caps: ResetCapabilities): ActiveResetMode {
  if (caps.pagemapScan) return 'restore-dirty';
  if (caps.pagemapRead) return 'restore-dirty-pread';
  return 'madvise';
}

/** The mode a fixed (non-auto) request runs as here. */
export function activeModeFor(
  requested: 'madvise' | 'keep-resident' | 'restore-dirty' | 'track-writes',
  caps: ResetCapabilities,
): ActiveResetMode {
  switch (requested) {
    case 'track-writes':
      return caps.trackWrites ? 'track-writes' : restoreDirtyMode(caps);
    case 'restore-dirty':
      return restoreDirtyMode(caps);
    default:
      return requested;
  }
}

/** True when the mode leaves restored pages private (resident) between tenants. */
export function keepsPagesResident(mode: ActiveResetMode): boolean {
  return mode === 'restore-dirty' || mode === 'restore-dirty-pread' || mode === 'track-writes';
}

/** True when counting private pages is possible (restore-dirty in some form, or the auto policy's sampling). */
export function canCountPages(caps: ResetCapabilities): boolean {
  return caps.pagemapScan || caps.pagemapRead;
}

export function nativeModeOf(mode: ActiveResetMode): number {
  switch (mode) {
    case 'madvise':
      return NativeResetMode.madvise;
    case 'keep-resident':
      return NativeResetMode.keepResident;
    case 'restore-dirty':
      return NativeResetMode.restoreDirty;
    case 'restore-dirty-pread':
      return NativeResetMode.restoreDirtyRead;
    case 'track-writes':
      return NativeResetMode.trackWrites;
  }
}
