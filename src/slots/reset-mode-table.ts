/**
 * Every reset mode in one table: the native id the addon runs it by, the
 * kernel facilities it needs, the mode it falls back to without them,
 * whether it keeps private pages resident between tenants, and how `auto`
 * counts what it costs. Everything else (fallbacks, auto's candidates, the
 * native call, the policy's pricing) reads this table. Pure: the facilities
 * come in as data.
 *
 *   requested (config) ──► active (what runs)   native  needs               falls back to
 *   madvise            ──► madvise              0       —                   —
 *   keep-resident      ──► keep-resident        1       —                   —
 *   restore-dirty      ──► restore-dirty        2       pagemap_scan        restore-dirty-pread
 *                          restore-dirty-pread  3       pagemap_read        madvise
 *   track-writes       ──► track-writes         4       uffd, pagemap_scan  restore-dirty
 *   auto               ──► one of the active modes, chosen per module by the pool's policy
 *
 * The C++ side numbers its ResetMode enum the same way (native/range_ops.h)
 * and reports its names (`addon().resetModeIds`); a test holds the two equal.
 */
import { NativeResetMode, type NativeResetSupport } from '../native/addon.js';

/** A kernel facility a reset mode needs; the names COWPOOL_DISABLE and `ResetSettings.disable` accept. */
export type ResetFeature = 'uffd' | 'pagemap_scan' | 'pagemap_read';

export const RESET_FEATURES: readonly ResetFeature[] = ['uffd', 'pagemap_scan', 'pagemap_read'];

/**
 * How auto learns what a tenant under the mode cost (faults it took because
 * of the reset before, besides the reset's own time):
 * - `dropped`: every page the tenant wrote was dropped by the last reset and
 *   took a copy-on-write fault; a page count taken before the drop says how many.
 * - `restored`: pages private now that the last reset did not keep took a
 *   copy-on-write fault each (page scans); the private set only grows.
 * - `tracked`: the written pages are known exactly; those not private before
 *   took a copy-on-write fault, the others a write-protect fault.
 * - `thread-faults`: nothing is scanned; only the thread's fault count prices it.
 */
export type ResetCostCount = 'dropped' | 'restored' | 'tracked' | 'thread-faults';

export interface ResetModeFacts {
  /** The id the addon runs the mode by (NativeResetMode, the C++ ResetMode). */
  readonly native: number;
  /** Facilities that must all be available for the mode to run as itself. */
  readonly needs: readonly ResetFeature[];
  /** The mode that runs when one of `needs` is missing; null when the mode always runs. */
  readonly fallback: ActiveResetMode | null;
  /** Restored pages stay private (resident) for the next tenant; false: every private page is dropped. */
  readonly keepsPagesResident: boolean;
  readonly counted: ResetCostCount;
}

/** A reset the addon performs. `restore-dirty-pread` is restore-dirty reading raw pagemap entries (older kernels). */
export type ActiveResetMode = 'madvise' | 'keep-resident' | 'restore-dirty' | 'restore-dirty-pread' | 'track-writes';

/** What a configuration asks for: a fixed mode, or auto. */
export type ResetModeName = 'madvise' | 'keep-resident' | 'restore-dirty' | 'track-writes' | 'auto';

/** A mode a configuration can fix (every requested mode but auto). */
export type FixedResetMode = Exclude<ResetModeName, 'auto'>;

export const RESET_MODE_TABLE: Readonly<Record<ActiveResetMode, ResetModeFacts>> = {
  madvise: { native: NativeResetMode.madvise, needs: [], fallback: null, keepsPagesResident: false, counted: 'dropped' },
  'keep-resident': { native: NativeResetMode.keepResident, needs: [], fallback: null, keepsPagesResident: true, counted: 'thread-faults' },
  'restore-dirty': { native: NativeResetMode.restoreDirty, needs: ['pagemap_scan'], fallback: 'restore-dirty-pread', keepsPagesResident: true, counted: 'restored' },
  'restore-dirty-pread': { native: NativeResetMode.restoreDirtyRead, needs: ['pagemap_read'], fallback: 'madvise', keepsPagesResident: true, counted: 'restored' },
  'track-writes': { native: NativeResetMode.trackWrites, needs: ['uffd', 'pagemap_scan'], fallback: 'restore-dirty', keepsPagesResident: true, counted: 'tracked' },
};

export const ACTIVE_RESET_MODES = Object.keys(RESET_MODE_TABLE) as readonly ActiveResetMode[];

/** The fixed modes auto tries, in trial order (madvise, the baseline, first). */
const AUTO_TRIAL_ORDER: readonly FixedResetMode[] = ['madvise', 'restore-dirty', 'track-writes', 'keep-resident'];

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

function hasFeature(caps: ResetCapabilities, feature: ResetFeature): boolean {
  switch (feature) {
    case 'uffd':
      return caps.trackWrites;
    case 'pagemap_scan':
      return caps.pagemapScan;
    case 'pagemap_read':
      return caps.pagemapRead;
  }
}

/** The mode that runs for `mode` here: itself when its facilities are there, else down its fallbacks. */
export function activeModeFor(mode: ActiveResetMode, caps: ResetCapabilities): ActiveResetMode {
  let m = mode;
  for (;;) {
    const facts = RESET_MODE_TABLE[m];
    if (facts.fallback === null || facts.needs.every((f) => hasFeature(caps, f))) return m;
    m = facts.fallback;
  }
}

/** The mode that runs here when `mode` cannot (a slot whose range could not be registered for tracking). */
export function fallbackModeFor(mode: ActiveResetMode, caps: ResetCapabilities): ActiveResetMode {
  const fallback = RESET_MODE_TABLE[mode].fallback;
  return fallback === null ? mode : activeModeFor(fallback, caps);
}

/** True when counting private pages is possible (a restore-dirty variant runs, or auto samples). */
export function canCountPages(caps: ResetCapabilities): boolean {
  return caps.pagemapScan || caps.pagemapRead;
}

/**
 * The modes auto chooses between: madvise, and each other mode that runs as
 * itself here and whose cost auto can count (page scans, or the thread's
 * fault count for keep-resident).
 */
export function autoCandidatesFor(caps: ResetCapabilities, threadFaultsCounted: boolean): ActiveResetMode[] {
  const out: ActiveResetMode[] = [];
  for (const requested of AUTO_TRIAL_ORDER) {
    const mode = activeModeFor(requested, caps);
    if (out.includes(mode)) continue;
    const counted = RESET_MODE_TABLE[mode].counted;
    const countable = mode === 'madvise' || (counted === 'thread-faults' ? threadFaultsCounted : canCountPages(caps));
    if (countable) out.push(mode);
  }
  return out;
}
