/**
 * How a slot's memory is put back to "image then zeros" after a tenant.
 * The slot types call only the reset functions here. The facts of each mode
 * are the table in reset-mode-table.ts; auto's choice is the pool's policy
 * (src/policy/auto-reset-policy.ts, reached through auto-reset-chooser.ts).
 * A reset reads choose → run → record:
 *
 *   chooseReset: settings.mode ──► auto? ──► the pool's auto policy for the module picks ─┐
 *                     │ fixed                                                            ▼
 *                     └──► activeModeFor (the table's fallbacks) ──────────► mode + native flags
 *   runReset:    the addon's reset (a second pass when track-writes must check its cap), timed
 *   recordReset: the policy observes; SlotResetState (per slot: trim / cap / tracking
 *                bookkeeping) and PoolResetState (per pool: counters per mode and module) count
 *
 * Every reset names its pool's state, its slot's state and its module: no
 * reset state is process-wide. Only the kernel's capabilities and the fault
 * prices (startResetCalibration) are.
 *
 * Modes (see ResetModeName): madvise drops every private page; keep-resident
 * copies the first keepResidentBytes back and drops the rest; restore-dirty
 * copies back exactly the private pages (PAGEMAP_SCAN, or raw pagemap entries
 * on older kernels); track-writes copies back exactly the pages written since
 * the last reset (userfaultfd async write-protect); auto measures and picks
 * per module. The resident private set of the copying modes is capped by
 * maxResidentBytes and dropped every trimEvery resets.
 */
import { fromNative } from '../errors.js';
import {
  addon,
  native,
  NativeResetFlag,
  NativeResetOutcome,
  RESET_STAT,
  type NativeImage,
  type NativeRawSlot,
  type NativeResetCalibration,
  type NativeResetSupport,
} from '../native/addon.js';
import {
  activeModeFor,
  autoCandidatesFor,
  canCountPages,
  fallbackModeFor,
  RESET_MODE_TABLE,
  type ResetModeFacts,
  resetCapabilities,
  type ActiveResetMode,
  type ResetCapabilities,
  type FixedResetMode,
  type ResetFeature,
  type ResetModeName,
} from './reset-mode-table.js';
import type { AutoObservation, AutoResetChooser } from './auto-reset-chooser.js';
import type { PoolResetState } from './pool-reset-state.js';
import type { ResetRecord, SlotResetState } from './reset-slot-state.js';


export interface ResetSettings {
  mode: ResetModeName;
  /** keep-resident: bytes at the start of memory restored by copying instead of madvise. */
  keepResidentBytes: number;
  /** restore-dirty, track-writes (and auto): cap on private bytes kept resident before falling back to madvise. */
  maxResidentBytes: number;
  /** Drop every private page every this many resets of a slot (0: never). */
  trimEvery: number;
  /** Facilities to treat as unavailable (tests, or a kernel known to misbehave); COWPOOL_DISABLE does the same process-wide. */
  disable?: readonly ResetFeature[];
}

/** Who is being reset: the owning pool's state, the slot's own state, and the module it serves. */
export interface ResetContext {
  /** The pool's reset state: counters, and the auto policy of each module it serves. */
  readonly pool: PoolResetState;
  /** The slot's own state. */
  readonly slot: SlotResetState;
  /** The module the slot serves (auto decides per module; statistics are kept per module). */
  readonly key: string;
}

export { SlotResetState, type ResetRecord } from './reset-slot-state.js';
export { PoolResetState, type ModuleResetStatistics, type ResetModeCounters } from './pool-reset-state.js';
export type { ActiveResetMode, FixedResetMode, ResetFeature, ResetModeName } from './reset-mode-table.js';

export interface ResetSupportReport {
  readonly native: NativeResetSupport;
  readonly capabilities: ResetCapabilities;
  /** The mode each fixed request runs as here. */
  readonly modes: Readonly<Record<FixedResetMode, ActiveResetMode>>;
  /** The modes auto chooses between here. */
  readonly autoCandidates: readonly ActiveResetMode[];
}

/** What this process can do, with `settings.disable` applied. */
export function resetSupport(settings: Pick<ResetSettings, 'disable'> = {}): ResetSupportReport {
  const caps = capabilitiesFor(settings.disable);
  return {
    native: nativeSupport(),
    capabilities: caps,
    modes: {
      madvise: activeModeFor('madvise', caps),
      'keep-resident': activeModeFor('keep-resident', caps),
      'restore-dirty': activeModeFor('restore-dirty', caps),
      'track-writes': activeModeFor('track-writes', caps),
    },
    autoCandidates: autoCandidates(caps),
  };
}

/** Resets a WebAssembly.Memory buffer whose first bytes map `image`. Returns bytes copied. */
export function resetV8Memory(
  buffer: ArrayBuffer,
  image: NativeImage | null,
  settings: ResetSettings,
  context: ResetContext,
  /** Reset only `[0, rangeBytes)` (a memory with a virtual size whose physical size grew); 0: the whole buffer. */
  rangeBytes = 0,
): number {
  return performReset(settings, context, buffer, image, null, rangeBytes);
}

/** Resets a raw slot to its image, zeros, and `initialBytes`. Returns bytes copied. */
export function resetRawSlot(
  slot: NativeRawSlot,
  initialBytes: number,
  settings: ResetSettings,
  context: ResetContext,
): number {
  return performReset(settings, context, null, null, slot, initialBytes);
}

/** Bytes of a memory held in private pages: what the next reset has to deal with (diagnostic). */
export function residentPrivateBytes(buffer: ArrayBuffer): number {
  return native(() => addon().residentPrivateBytes(buffer));
}

/** The same for a raw slot's [base, base + size). */
export function rawSlotResidentPrivateBytes(slot: NativeRawSlot): number {
  return native(() => slot.residentPrivateBytes());
}

/**
 * Starts the process's one measurement of fault and copy prices for `auto`
 * (on a thread-pool thread) unless it started already on this thread;
 * resolves when it is done. Never rejects: a failed measurement leaves the
 * fallback prices in place and is not tried again. Until it resolves, auto
 * prices with the fallback model; once it has, each policy re-decides at its
 * next reset (no list of policies is kept: they belong to their pools).
 */
export function startResetCalibration(): Promise<void> {
  if (calibrating !== undefined) return calibrating;
  let measuring: Promise<NativeResetCalibration>;
  try {
    measuring = native(() => addon().calibrateResetAsync());
  } catch {
    // No addon here (the pool serves modules the plain way): nothing to price.
    measuring = Promise.reject(new Error('no addon'));
  }
  calibrating = measuring.then(
    (c) => {
      measured = c;
    },
    () => undefined,
  );
  return calibrating;
}

// ---------------------------------------------------------------------------

let supportCache: NativeResetSupport | undefined;
const capabilityCache = new Map<string, ResetCapabilities>();
/** The measured prices, once this thread's calibration promise resolved. */
let measured: NativeResetCalibration | undefined;
let calibrating: Promise<void> | undefined;
let threadCounting: boolean | undefined;
// Reused for every reset on this thread: the native call fills it synchronously.
const stats = new Float64Array(RESET_STAT.length);

function nativeSupport(): NativeResetSupport {
  supportCache ??= native(() => addon().resetSupport());
  return supportCache;
}

export function capabilitiesFor(disable: readonly ResetFeature[] | undefined): ResetCapabilities {
  const key = disable === undefined ? '' : [...disable].sort().join(',');
  let caps = capabilityCache.get(key);
  if (caps === undefined) {
    caps = resetCapabilities(nativeSupport(), disable);
    capabilityCache.set(key, caps);
  }
  return caps;
}

/** True when this thread's minor faults can be read (getrusage RUSAGE_THREAD). */
function canCountThreadFaults(): boolean {
  threadCounting ??= addon().threadMinorFaults() !== null;
  return threadCounting;
}

/**
 * The modes auto chooses between: every one it can price. keep-resident
 * drops no counts of its own, so it needs the thread's fault count;
 * restore-dirty and track-writes need the page scans.
 */
function autoCandidates(caps: ResetCapabilities): ActiveResetMode[] {
  return autoCandidatesFor(caps, canCountThreadFaults());
}

/**
 * The pool's auto policy for `key`, made by the pool's factory on first use
 * and recalibrated when the measurement finished since it last reset.
 */
function policyFor(pool: PoolResetState, key: string, caps: ResetCapabilities): AutoResetChooser {
  // Off the hot path: the measurement runs on another thread; a policy made
  // before it is done prices with the fallback and is recalibrated after.
  if (measured === undefined) void startResetCalibration();
  const policy = pool.policyOf(key) ?? pool.autoPolicy(key, autoCandidates(caps), measured ?? null, caps.trackWrites);
  if (measured !== undefined && policy.candidates.length > 1 && policy.calibration !== measured) policy.recalibrate(measured);
  return policy;
}

/**
 * restore-dirty compares its private pages with the image every this many
 * resets and drops the unchanged ones: a page a tenant wrote once stays
 * private (restored in place) and would be copied back on every reset until
 * the next trim. One compare pass in SWEEP_EVERY costs little; it bounds how
 * long pages nobody writes any more are carried along.
 */
const SWEEP_EVERY = 16;

/** What one reset does: chosen by chooseReset, run by runReset, recorded by recordReset. */
interface ResetPlan {
  requested: ResetModeName;
  mode: ActiveResetMode;
  facts: ResetModeFacts;
  flags: number;
  policy: AutoResetChooser | null;
  /** The slot's private pages before the reset, when known exactly. */
  keptBefore: number | null;
  /** The slot's last reset ran in another mode: not a representative sample. */
  warmup: boolean;
  /** The faults of the tenancy that just ended, when the policy asked for them. */
  tenantFaults: number | null;
}

/** What the native reset reported (RESET_STAT), summed over its passes. */
interface ResetResult {
  copied: number;
  bytesDiscarded: number;
  pagesScanned: number;
  /** RESET_STAT.foundPages: private pages found, or (track-writes) pages written since the last reset. */
  foundPages: number;
  /** Private pages resident after the reset, null when the native call did not count. */
  kept: number | null;
  outcome: number;
  micros: number;
}

/**
 * The plan and result of the reset running now. A reset is synchronous and
 * never re-entered (the addon calls no JS), so one of each per thread
 * serves every reset: the hot path allocates neither.
 */
const scratchPlan: ResetPlan = {
  requested: 'madvise', mode: 'madvise', facts: RESET_MODE_TABLE.madvise, flags: 0,
  policy: null, keptBefore: null, warmup: false, tenantFaults: null,
};
const scratchResult: ResetResult = { copied: 0, bytesDiscarded: 0, pagesScanned: 0, foundPages: 0, kept: null, outcome: 0, micros: 0 };

/** choose → run → record. A reset that throws leaves the slot `failed` and counts nothing. */
function performReset(
  settings: ResetSettings,
  context: ResetContext,
  buffer: ArrayBuffer | null,
  image: NativeImage | null,
  raw: NativeRawSlot | null,
  initialBytes: number,
): number {
  const plan = chooseReset(settings, context);
  let result: ResetResult;
  try {
    result = runReset(plan, settings, context.slot, buffer, image, raw, initialBytes);
  } catch (e) {
    plan.policy = null;
    context.slot.failed();
    throw e;
  }
  recordReset(plan, result, settings, context);
  // The scratch plan must not keep a closed pool's policy alive.
  plan.policy = null;
  return result.copied;
}

/** The mode (fixed, or the pool's auto policy's choice, after fallbacks) and the native flags for it. */
function chooseReset(settings: ResetSettings, context: ResetContext): ResetPlan {
  const { slot } = context;
  const caps = capabilitiesFor(settings.disable);
  const policy = settings.mode === 'auto' ? policyFor(context.pool, context.key, caps) : null;
  let mode: ActiveResetMode = policy !== null ? policy.mode : activeModeFor(settings.mode as ActiveResetMode, caps);
  // A slot whose range could not be registered runs the next mode down.
  if (slot.trackingFailed && RESET_MODE_TABLE[mode].counted === 'tracked') mode = fallbackModeFor(mode, caps);
  const facts = RESET_MODE_TABLE[mode];
  const tracked = facts.counted === 'tracked';

  let flags = 0;
  if (facts.keepsPagesResident && settings.trimEvery > 0 && slot.resetsSinceDiscard + 1 >= settings.trimEvery) {
    flags |= NativeResetFlag.trim;
  } else if (facts.counted === 'restored' && (slot.resetsSinceDiscard + 1) % SWEEP_EVERY === 0) {
    flags |= NativeResetFlag.sweep;
  }
  // A slot leaving track-writes (or remapped, so its history is unknown)
  // drops its registration: markers left behind slow every later scan.
  if (!tracked && caps.trackWrites && (slot.lastMode === null || RESET_MODE_TABLE[slot.lastMode].counted === 'tracked')) {
    flags |= NativeResetFlag.untrack;
  }
  const counting = policy !== null && policy.wantsCounts;
  if (counting && facts.counted === 'dropped' && canCountPages(caps)) flags |= NativeResetFlag.count;
  if (tracked && (counting || slot.privateUpperBound * addon().pageSize > settings.maxResidentBytes)) {
    flags |= NativeResetFlag.checkCap;
  }

  // The faults of the tenancy that just ended, when the policy asked for them
  // at the last reset (read before the reset: its own faults are in its time).
  let tenantFaults: number | null = null;
  if (policy !== null && slot.tenancyFaultsAt !== null) {
    const now = addon().threadMinorFaults();
    if (now !== null) tenantFaults = Math.max(0, now - slot.tenancyFaultsAt);
  }
  const plan = scratchPlan;
  plan.requested = settings.mode;
  plan.mode = mode;
  plan.facts = facts;
  plan.flags = flags;
  plan.policy = policy;
  plan.keptBefore = slot.keptPrivatePages;
  plan.warmup = slot.lastMode !== mode;
  plan.tenantFaults = tenantFaults;
  return plan;
}

/** Runs the plan's native reset (twice when track-writes must check its cap) and times it. */
function runReset(
  plan: ResetPlan,
  settings: ResetSettings,
  slot: SlotResetState,
  buffer: ArrayBuffer | null,
  image: NativeImage | null,
  raw: NativeRawSlot | null,
  initialBytes: number,
): ResetResult {
  const { maxResidentBytes } = settings;
  const t0 = performance.now();
  let copied = nativeReset(plan.facts.native, plan.flags, settings, buffer, image, raw, initialBytes);
  let bytesDiscarded = stats[RESET_STAT.bytesDiscarded] ?? 0;
  let pagesScanned = stats[RESET_STAT.pagesScanned] ?? 0;
  const foundPages = stats[RESET_STAT.foundPages] ?? 0;
  let keptRaw = stats[RESET_STAT.privatePagesKept] ?? -1;
  let outcome = stats[RESET_STAT.outcome] ?? 0;
  // track-writes without a count only knows an upper bound on the private
  // pages: what was there plus what this tenant wrote. When that bound
  // passes the cap, count now (nothing was written since the restore, so
  // the second pass only scans) and discard if the cap is really passed.
  if (
    plan.facts.counted === 'tracked'
    && keptRaw < 0
    && (slot.privateUpperBound + foundPages) * addon().pageSize > maxResidentBytes
  ) {
    copied += nativeReset(plan.facts.native, NativeResetFlag.checkCap, settings, buffer, image, raw, initialBytes);
    bytesDiscarded += stats[RESET_STAT.bytesDiscarded] ?? 0;
    pagesScanned += stats[RESET_STAT.pagesScanned] ?? 0;
    keptRaw = stats[RESET_STAT.privatePagesKept] ?? -1;
    outcome |= stats[RESET_STAT.outcome] ?? 0;
  }
  const micros = (performance.now() - t0) * 1000;
  const result = scratchResult;
  result.copied = copied;
  result.bytesDiscarded = bytesDiscarded;
  result.pagesScanned = pagesScanned;
  result.foundPages = foundPages;
  result.kept = keptRaw >= 0 ? keptRaw : null;
  result.outcome = outcome;
  result.micros = micros;
  return result;
}

/** One pass of the addon's reset over a V8 memory's buffer or a raw slot; fills `stats`. */
function nativeReset(
  mode: number,
  flags: number,
  settings: ResetSettings,
  buffer: ArrayBuffer | null,
  image: NativeImage | null,
  raw: NativeRawSlot | null,
  initialBytes: number,
): number {
  const { keepResidentBytes, maxResidentBytes } = settings;
  try {
    return raw !== null
      ? raw.reset(mode, keepResidentBytes, initialBytes, maxResidentBytes, flags, stats)
      : addon().resetMemory(buffer as ArrayBuffer, image, mode, keepResidentBytes, maxResidentBytes, flags, stats, initialBytes > 0 ? initialBytes : undefined);
  } catch (e) {
    throw fromNative(e);
  }
}

type WritableResetRecord = { -readonly [K in keyof ResetRecord]: ResetRecord[K] };

function emptyRecord(): WritableResetRecord {
  return {
    requested: 'madvise', mode: 'madvise', micros: 0, bytesCopied: 0, bytesDiscarded: 0, pagesScanned: 0,
    writtenPages: null, privatePagesFound: null, privatePagesKept: null, trimmed: false, overCap: false, rearmed: false,
  };
}

/** Tells the policy, updates the slot's bookkeeping and counts the reset in its pool. */
function recordReset(plan: ResetPlan, r: ResetResult, settings: ResetSettings, context: ResetContext): void {
  const { slot } = context;
  const { mode, facts, policy } = plan;
  const { copied, outcome, foundPages, kept } = r;
  const pageSize = addon().pageSize;
  const tracked = facts.counted === 'tracked';
  // The slot's record is rewritten in place: `last` reports the last reset
  // only, and a new object per reset was most of what a reset allocated.
  const record = (slot.last as WritableResetRecord | null) ?? emptyRecord();
  record.requested = plan.requested;
  record.mode = mode;
  record.micros = r.micros;
  record.bytesCopied = copied;
  record.bytesDiscarded = r.bytesDiscarded;
  record.pagesScanned = r.pagesScanned;
  record.writtenPages = tracked ? foundPages : null;
  record.privatePagesFound = !tracked && (facts.counted === 'restored' || (plan.flags & NativeResetFlag.count) !== 0) ? foundPages : null;
  record.privatePagesKept = kept;
  record.trimmed = (outcome & NativeResetOutcome.trimmed) !== 0;
  record.overCap = (outcome & NativeResetOutcome.overCap) !== 0;
  record.rearmed = (outcome & NativeResetOutcome.rearmed) !== 0;

  slot.tenancyFaultsAt = null;
  if (policy !== null) {
    const privateLimit = Math.min(stats[RESET_STAT.rangePages] ?? 0, Math.floor(settings.maxResidentBytes / pageSize));
    policy.observe(observation(plan, r, copied / pageSize, privateLimit));
    if (policy.wantsTenantFaults) slot.tenancyFaultsAt = addon().threadMinorFaults();
  }

  const discardedAll = !facts.keepsPagesResident
    || (outcome & (NativeResetOutcome.trimmed | NativeResetOutcome.overCap | NativeResetOutcome.rearmed | NativeResetOutcome.trackingFailed)) !== 0;
  slot.resetsSinceDiscard = discardedAll ? 0 : slot.resetsSinceDiscard + 1;
  if (kept !== null) {
    slot.keptPrivatePages = kept;
    slot.privateUpperBound = kept;
  } else {
    // track-writes without a count: what was private stays private and every
    // written page joined it, so the bound grows by the written pages.
    slot.keptPrivatePages = null;
    slot.privateUpperBound += foundPages;
  }
  if ((outcome & NativeResetOutcome.trackingFailed) !== 0) slot.trackingFailed = true;
  slot.lastMode = mode;
  slot.last = record;

  context.pool.count(context.key, record, policy);
}

/**
 * The observation the policy is handed, rewritten for every auto reset (the
 * policy reads it during observe() and keeps none of it; see AutoResetChooser).
 * One fixed-shape object, all fields written each time: spreading a partial
 * one once cost more than the rest of the bookkeeping together (1.8 µs).
 */
const scratchObservation: { -readonly [K in keyof AutoObservation]: AutoObservation[K] } = {
  mode: 'madvise', micros: 0, cowFaults: null, wpFaults: null, tenantFaults: null,
  writtenPages: null, copiedPages: 0, privatePages: null, privateLimit: 0, warmup: false,
};

/** Turns one reset's numbers into what the previous tenant's faults cost (see src/policy/auto-reset-policy.ts). */
function observation(plan: ResetPlan, r: ResetResult, copiedPages: number, privateLimit: number): AutoObservation {
  const { mode, flags, keptBefore, warmup, tenantFaults } = plan;
  const { micros, foundPages, kept: keptAfter, outcome } = r;
  const counted = plan.facts.counted;
  // A reset that dropped everything leaves nothing to compare the next one with;
  // restore-dirty's over-cap drop still counted the private pages it found.
  const dropMask = NativeResetOutcome.trimmed | NativeResetOutcome.rearmed | NativeResetOutcome.trackingFailed
    | (counted === 'tracked' ? NativeResetOutcome.overCap : 0);
  const wholeDrop = (outcome & dropMask) !== 0;
  let cowFaults: number | null = null;
  let wpFaults: number | null = null;
  let writtenPages: number | null = null;
  if (counted === 'dropped' && (flags & NativeResetFlag.count) !== 0 && keptBefore !== null) {
    // Everything private now (foundPages) was written by the tenant after the
    // previous reset dropped it (or kept keptBefore of it): each such write faulted.
    cowFaults = Math.max(0, foundPages - keptBefore);
    wpFaults = 0;
    writtenPages = cowFaults;
  } else if (counted === 'restored' && !wholeDrop && keptBefore !== null) {
    // Pages private now (foundPages) but not kept by the last reset became
    // private during this tenant: a copy-on-write fault each. Pages kept cost none.
    cowFaults = Math.max(0, foundPages - keptBefore);
    wpFaults = 0;
  } else if (counted === 'tracked' && !wholeDrop) {
    // foundPages are the pages written since the last reset.
    writtenPages = foundPages;
    if (keptBefore !== null && keptAfter !== null) {
      // Of the written pages, those that were not private before took a
      // copy-on-write fault; the others a write-protect fault.
      const fresh = Math.min(writtenPages, Math.max(0, keptAfter - keptBefore));
      cowFaults = fresh;
      wpFaults = writtenPages - fresh;
    }
  }
  const o = scratchObservation;
  o.mode = mode;
  o.micros = micros;
  o.cowFaults = cowFaults;
  o.wpFaults = wpFaults;
  o.tenantFaults = tenantFaults;
  o.writtenPages = writtenPages;
  o.copiedPages = copiedPages;
  o.privatePages = keptAfter;
  o.privateLimit = privateLimit;
  o.warmup = warmup;
  return o;
}
