/**
 * The `auto` reset mode's choice for one module: which reset costs the
 * least per tenant, counting what the reset itself takes *and* the faults the
 * next tenant pays for pages the reset threw away or write-protected.
 *
 *   trial ──(each candidate: trialSamples measured resets)──► settled(mode)
 *     ▲                                                          │
 *     └──── every reprobeEvery resets, or when the settled ──────┘
 *           mode turns out dearer than madvise would have been,
 *           or (settled on madvise) when its resets take several
 *           times as long as in the trial: tenants write more now
 *
 * Cost of one reset in mode m (µs), the whole cost per tenant:
 *   reset time + faults × cowFaultUs + wpFaults × wpFaultUs
 * where `faults` are the minor faults the thread took during the tenancy
 * before the reset (getrusage, every kind: copy-on-write, zero-fill, read
 * faults on pages the reset dropped), less the write-protect faults; when
 * the thread's count is not available they come from the page scans (see
 * memory-reset.ts):
 *   madvise:        every page the tenant wrote took a copy-on-write fault
 *   restore-dirty:  only pages that became private since the last reset did
 *   track-writes:   new private pages took a CoW fault, the rest a (cheaper)
 *                   write-protect fault
 *   keep-resident:  priced only from the thread's count (nothing scans)
 * The per-fault and per-page-copy prices are measured once per process
 * (calibrateReset, off the JS thread); until that finishes a fallback model
 * prices them, and `reprice` re-decides from the same samples when the
 * measurement arrives. Fault counts are counts: a busier machine does not
 * change them.
 *
 * Trial: madvise first, then each other candidate; the median cost of each
 * decides, the cheapest wins. madvise is the baseline: another mode is chosen only when its
 * estimate is below madvise's by more than `margin` and `noiseUs`, so `auto`
 * never does worse than madvise by more than noise. restore-dirty's set of
 * private pages only grows while tenants touch new pages; when it is still
 * growing at the end of the trial, restore-dirty is priced at the size it
 * will reach (the range, or the cap), not at the size it had.
 *
 * Settled: each reset is priced from its counts (pages copied, fresh faults,
 * write-protect faults; the thread's fault count on every
 * SETTLED_SAMPLE_EVERY-th tenancy) with the trial's fixed overhead, and
 * compared with what madvise would have cost for the same tenant. Settled on
 * madvise, a tenancy whose faults grew far past the trial's starts a new
 * trial. Counts do not change
 * when the machine gets busier, so a load spike cannot flip the choice; a
 * workload that changes does, once most of the last GUARD_WINDOW resets lose.
 *
 * Pure: no clock, no system calls; src/slots/memory-reset.ts feeds it
 * observations (through AutoResetChooser, so the slots never import the policy).
 *
 * Invariant: `candidates` starts with 'madvise' and holds no duplicates.
 * Invariant: in `trial`, `trialIndex` < candidates.length and `mode` is candidates[trialIndex].
 * Invariant: in `settled`, `mode` is one of `candidates`.
 * Invariant: `trial`, `madviseTimes` and `madviseFaults` hold observations made during the
 *            current trial only, or (settled) during the trial that settled it.
 * Invariant: `trialResets` ≤ STALL_FACTOR × trialSamples (a candidate that cannot be measured is skipped).
 * Invariant: `madviseTrialFaults` is the median of the last completed trial's
 *            `madviseFaults`, null when that trial had none (or before the first).
 * Invariant: `estimates` were priced with `model` (reprice re-decides when it changes).
 * Invariant: `estimates`, `fixedUs`, `writtenPerTenant` and `trackFreshShare`
 *            describe the last completed trial (or hold their initial values before the first).
 * Invariant: in `settled` with more than one candidate, `nextTrialAt` > the
 *            reset count at which the policy settled.
 * Invariant: `losses[0..lossFill)` holds one flag (1 = lost) per priced reset
 *            since the last settle, the last GUARD_WINDOW at most, oldest at
 *            `lossNext` once full; `lossCount` is their sum.
 * Invariant: `drifts[0..driftFill)` holds one flag (1 = drifted) per sampled tenancy since
 *            the last settle, like `losses`; `driftCount` is their sum.
 * Invariant: in `settled`, `settledFixedUs` and `madviseFixedUs` are
 *            fixedUs[mode] (NaN when not measured) and fixedUs.madvise (0 when not measured).
 */
import type { NativeResetCalibration } from '../native/addon.js';
import type { AutoObservation, AutoReport, AutoResetChooser, AutoResetChooserFactory } from '../slots/auto-reset-chooser.js';
import { RESET_MODE_TABLE, type ActiveResetMode } from '../slots/reset-mode-table.js';
import { median } from '../util/statistics.js';
import { costModelOf, fallbackCostModel, type ResetCostModel } from './reset-cost-model.js';

export type { AutoObservation, AutoReport } from '../slots/auto-reset-chooser.js';
export type { ResetCostModel } from './reset-cost-model.js';

export interface AutoPolicyOptions {
  /** Valid observations per candidate in a trial. */
  readonly trialSamples: number;
  /** Resets of the module between the end of one trial and the next. */
  readonly reprobeEvery: number;
  /** Relative advantage over madvise a mode needs to be chosen (0.1 = 10 %). */
  readonly margin: number;
  /** Absolute advantage (µs) it needs on top: differences below it are noise. */
  readonly noiseUs: number;
}

export const DEFAULT_AUTO_OPTIONS: AutoPolicyOptions = {
  trialSamples: 8,
  reprobeEvery: 4096,
  margin: 0.1,
  noiseUs: 0.5,
};

/**
 * Resets the guard looks back over: it leaves a settled mode when most of the
 * last GUARD_WINDOW resets cost more than madvise would have for the same
 * tenant, so one odd tenant never decides, and a changed workload does within
 * about half a window.
 */
const GUARD_WINDOW = 15;

/**
 * Settled on madvise, a tenancy that takes this many times the trial's
 * faults (plus GROWTH_SLACK_FAULTS) means the tenants now write far more
 * pages than they did during the trial. Without the thread's fault count, a
 * reset that takes this many times the trial's madvise time (plus noiseUs)
 * says the same: madvise drops every written page, so its own time grows with
 * them. Most of a guard window like that starts a new trial.
 */
const MADVISE_GROWTH = 3;
/** A trial candidate gets at most this many times trialSamples resets to collect its samples. */
const STALL_FACTOR = 4;
/** Fresh (newly private) pages per reset at the end of a trial above which the private set counts as still growing. */
const GROWING_PAGES = 0.5;
/** Settled, the thread's faults are counted on one tenancy in this many (two getrusage calls each). */
export const SETTLED_SAMPLE_EVERY = 4;
/** Settled on madvise, faults above MADVISE_GROWTH × the trial's + this many mean tenants write more now. */
const GROWTH_SLACK_FAULTS = 8;
/** Settled on another mode, tenancies touching this many times more (or fewer) pages than in the trial, ± DRIFT_SLACK_PAGES, drift. */
const DRIFT_FACTOR = 2;
const DRIFT_SLACK_PAGES = 16;

/** One trial reset, raw: priced with the model when a decision is made, so new prices re-decide. */
interface TrialSample {
  readonly micros: number;
  readonly copiedPages: number;
  /** Faults other than write-protect ones. */
  readonly faults: number;
  readonly wpFaults: number;
  /** Pages that became private since the last reset (page scans), for the private set's growth. */
  readonly freshPages: number;
  readonly written: number | null;
  readonly privatePages: number | null;
  readonly privateLimit: number;
  /** Its faults are the thread's count (every kind), not a page count. */
  readonly counted: boolean;
}

export class AutoResetPolicy implements AutoResetChooser {
  phase: 'trial' | 'settled' = 'trial';
  mode: ActiveResetMode;
  trialIndex = 0;
  resets = 0;
  trials = 0;
  reason = 'measuring';
  readonly candidates: readonly ActiveResetMode[];
  readonly options: AutoPolicyOptions;
  private trial = new Map<ActiveResetMode, TrialSample[]>();
  /** Times of the madvise trial's uncounted resets. */
  private madviseTimes: number[] = [];
  /** The thread's faults per tenancy in the madvise trial (uncounted resets). */
  private madviseFaults: number[] = [];
  /** Median faults per tenancy under madvise in the last trial, by the thread's count; null when not counted. */
  private madviseTrialFaults: number | null = null;
  private model: ResetCostModel;
  /** The process's measurement the prices come from; null: the fallback prices (or a model given directly). */
  calibration: NativeResetCalibration | null = null;
  /** The last observation carried the thread's fault count (so madvise needs no page counts). */
  private threadCounts = false;
  private trialResets = 0;
  private estimates: Partial<Record<ActiveResetMode, number | null>> = {};
  /** Median fixed overhead per reset of each mode in the last trial. */
  private fixedUs: Partial<Record<ActiveResetMode, number>> = {};
  /** Median pages written per tenant in the last trial's madvise phase. */
  private writtenPerTenant = 0;
  /** Share of a track-writes reset's written pages that were fresh (CoW-faulted); 1, the dearest, until measured. */
  private trackFreshShare = 1;
  private nextTrialAt = 0;
  private readonly losses = new Uint8Array(GUARD_WINDOW);
  private lossFill = 0;
  private lossNext = 0;
  private lossCount = 0;
  private settledFixedUs = Number.NaN;
  /** Median pages (copied + faults) per tenancy of the settled mode in its trial; null when not counted. */
  private settledPages: number | null = null;
  private readonly drifts = new Uint8Array(GUARD_WINDOW);
  private driftFill = 0;
  private driftNext = 0;
  private driftCount = 0;
  private madviseFixedUs = Number.NaN;

  constructor(
    candidates: readonly ActiveResetMode[],
    model: ResetCostModel,
    options: Partial<AutoPolicyOptions> = {},
  ) {
    this.model = model;
    const unique = [...new Set(candidates)].filter((m) => m !== 'madvise');
    // Track-writes cannot be priced without a write-protect fault cost.
    this.candidates = ['madvise', ...unique.filter((m) => RESET_MODE_TABLE[m].counted !== 'tracked' || model.wpFaultUs !== null)];
    this.options = { ...DEFAULT_AUTO_OPTIONS, ...options };
    this.mode = 'madvise';
    if (this.candidates.length === 1) this.settle('madvise', 'madvise is the only reset available here');
  }

  /**
   * True when the next reset should count pages exactly (it costs a scan).
   * During madvise's trial only every other reset counts, and madvise's time
   * is taken from the others, so the scan is not charged to madvise; when
   * the thread's fault count prices madvise's tenants, none needs to.
   */
  get wantsCounts(): boolean {
    if (this.phase !== 'trial') return false;
    if (this.mode !== 'madvise') return true;
    return !this.threadCounts && this.trialResets % 2 === 1;
  }

  /**
   * True when the tenancy after the reset just observed should have its
   * faults counted (two getrusage calls): every one during a trial, one in
   * SETTLED_SAMPLE_EVERY once settled.
   */
  get wantsTenantFaults(): boolean {
    if (this.candidates.length === 1) return false;
    return this.phase === 'trial' || this.resets % SETTLED_SAMPLE_EVERY === 0;
  }

  /** The prices in use. */
  get costModel(): ResetCostModel {
    return this.model;
  }

  /**
   * New prices (the process's calibration finished): a settled policy
   * decides again from its last trial's samples, a trial goes on with them.
   */
  reprice(model: ResetCostModel): void {
    this.model = model;
    if (this.phase === 'settled' && this.trial.size > 0) this.decide(false);
  }

  /** The process's measured prices arrived: reprice with them (see reprice). */
  recalibrate(calibration: NativeResetCalibration): void {
    this.calibration = calibration;
    this.reprice(costModelOf(calibration));
  }

  /**
   * Starts a new trial now, for a caller that knows the tenants' workload
   * changed (the bench, between tasks). A settled policy notices most
   * changes itself (guards above) but not, under keep-resident, tenants that
   * write fewer pages than before: nothing it counts shrinks with them, so
   * only the scheduled re-probe finds that out.
   */
  remeasure(): void {
    if (this.candidates.length > 1) this.startTrial();
  }

  /** The price of one observation as measured (time plus faults), or null when its faults are unknown. */
  cost(o: AutoObservation): number | null {
    const faults = this.faultsOf(o);
    return faults === null ? null : o.micros + this.faultsUs(faults.faults, faults.wp);
  }

  /** The observation's faults, the thread's count first; null when neither count is known. */
  private faultsOf(o: AutoObservation): { faults: number; wp: number } | null {
    if (o.tenantFaults !== null) {
      const wp = Math.min(o.tenantFaults, o.wpFaults ?? 0);
      return { faults: o.tenantFaults - wp, wp };
    }
    if (o.cowFaults === null || o.wpFaults === null) return null;
    return { faults: o.cowFaults, wp: o.wpFaults };
  }

  private sampleCost(s: TrialSample): number {
    return s.micros + this.faultsUs(s.faults, s.wpFaults);
  }

  /** Reset time beyond copying pages: scans, system calls, bookkeeping. */
  private sampleFixedUs(s: TrialSample): number {
    return Math.max(0, s.micros - s.copiedPages * this.model.copyPageUs);
  }

  observe(o: AutoObservation): void {
    this.resets += 1;
    if (this.phase === 'trial') this.threadCounts = o.tenantFaults !== null;
    if (this.phase === 'trial') this.observeTrial(o);
    else this.observeSettled(o);
  }

  report(): AutoReport {
    return {
      phase: this.phase,
      mode: this.mode,
      candidates: this.candidates,
      estimatesUs: { ...this.estimates },
      reason: this.reason,
      resets: this.resets,
      trials: this.trials,
    };
  }

  private faultsUs(cow: number, wp: number): number {
    return cow * this.model.cowFaultUs + wp * (this.model.wpFaultUs ?? this.model.cowFaultUs);
  }

  private observeTrial(o: AutoObservation): void {
    this.trialResets += 1;
    // Slots that cannot run the candidate (their tracking failed, say) report
    // another mode; do not wait for them forever.
    if (this.trialResets > STALL_FACTOR * this.options.trialSamples) {
      this.advanceTrial();
      return;
    }
    if (o.mode !== this.mode || o.warmup) return;
    const n = this.options.trialSamples;
    if (o.mode === 'madvise' && o.cowFaults === null) {
      // An uncounted madvise reset: its time is madvise's own, and the
      // thread's count its faults.
      this.madviseTimes.push(o.micros);
      if (o.tenantFaults !== null) this.madviseFaults.push(o.tenantFaults);
      if (this.madviseTimes.length >= n && this.madviseCounted() >= n) this.advanceTrial();
      return;
    }
    const faults = this.faultsOf(o);
    if (faults === null) return;
    const list = this.trial.get(o.mode) ?? [];
    list.push({
      micros: o.micros,
      copiedPages: o.copiedPages,
      faults: faults.faults,
      wpFaults: faults.wp,
      freshPages: o.cowFaults ?? faults.faults,
      written: o.writtenPages,
      privatePages: o.privatePages,
      privateLimit: o.privateLimit,
      counted: o.tenantFaults !== null,
    });
    this.trial.set(o.mode, list);
    const enough = list.length >= n && (o.mode !== 'madvise' || (this.madviseTimes.length >= n && this.madviseCounted() >= n));
    // A candidate already far dearer than madvise need not finish its trial:
    // every further sample would only cost the tenants more.
    const hopeless = o.mode !== 'madvise'
      && list.length >= 4
      && median(list.map((s) => this.sampleCost(s))) > 2 * this.madviseEstimate() + this.options.noiseUs;
    if (enough || hopeless) this.advanceTrial();
  }

  /** madvise resets of this trial whose faults are known (the thread's count, or a page count). */
  private madviseCounted(): number {
    return Math.max(this.madviseFaults.length, this.trial.get('madvise')?.length ?? 0);
  }

  /** madvise's cost per tenant so far in this trial: its own time plus the faults it leaves. */
  private madviseEstimate(): number {
    const counted = this.trial.get('madvise') ?? [];
    const time = this.madviseTimes.length > 0
      ? median(this.madviseTimes)
      : counted.length > 0 ? median(counted.map((s) => this.sampleFixedUs(s))) : 0;
    // The thread's count sees every fault (reads of dropped pages too); the page count only written pages.
    const faults = Math.max(
      this.madviseFaults.length > 0 ? median(this.madviseFaults) : 0,
      counted.length > 0 ? median(counted.map((s) => s.faults)) : 0,
    );
    return time + faults * this.model.cowFaultUs;
  }

  private advanceTrial(): void {
    this.trialIndex += 1;
    this.trialResets = 0;
    const next = this.candidates[this.trialIndex];
    if (next !== undefined) {
      this.mode = next;
      return;
    }
    this.decide();
  }

  /** The trial's estimate for `mode`, at the private-set size restore-dirty will settle at. */
  private estimate(mode: ActiveResetMode, samples: readonly TrialSample[]): number {
    if (mode === 'madvise') return this.madviseEstimate();
    const measured = median(samples.map((s) => this.sampleCost(s)));
    // Only a mode that restores whatever is private keeps a private set that grows.
    if (RESET_MODE_TABLE[mode].counted !== 'restored') return measured;
    const late = samples.slice(Math.floor(samples.length / 2));
    const growing = median(late.map((s) => s.freshPages)) >= GROWING_PAGES;
    const last = samples[samples.length - 1];
    if (!growing || last === undefined) return measured;
    // Tenants keep touching new pages: every one of them stays private and is
    // copied on every reset from then on, until the set fills the slot or the
    // cap discards it. Price it full.
    return median(late.map((s) => this.sampleFixedUs(s))) + last.privateLimit * this.model.copyPageUs;
  }

  /** Prices the current (or, settled, the last) trial's samples and settles on the cheapest; `count` adds a trial. */
  private decide(count = true): void {
    if (count) this.trials += 1;
    this.estimates = {};
    this.fixedUs = {};
    for (const m of this.candidates) {
      const list = this.trial.get(m) ?? [];
      if (m === 'madvise' ? this.madviseTimes.length === 0 && list.length === 0 : list.length === 0) {
        this.estimates[m] = null;
        continue;
      }
      this.estimates[m] = this.estimate(m, list);
      this.fixedUs[m] = m === 'madvise' && this.madviseTimes.length > 0
        ? median(this.madviseTimes)
        : median(list.map((s) => this.sampleFixedUs(s)));
    }
    const madviseSamples = this.trial.get('madvise') ?? [];
    this.madviseTrialFaults = this.madviseFaults.length > 0 ? median(this.madviseFaults) : null;
    this.writtenPerTenant = this.madviseTrialFaults
      ?? (madviseSamples.length > 0 ? median(madviseSamples.map((s) => s.written ?? s.faults)) : 0);
    const track = (this.trial.get('track-writes') ?? []).filter((s) => s.written !== null && s.written > 0);
    this.trackFreshShare = track.length > 0 ? median(track.map((s) => s.freshPages / (s.written ?? 1))) : 1;

    const base = this.estimates.madvise ?? null;
    let best: ActiveResetMode = 'madvise';
    let bestCost = base ?? Number.POSITIVE_INFINITY;
    if (base !== null) {
      const threshold = base * (1 - this.options.margin) - this.options.noiseUs;
      for (const m of this.candidates) {
        const est = this.estimates[m];
        if (m === 'madvise' || est === null || est === undefined) continue;
        if (est < threshold && est < bestCost) {
          best = m;
          bestCost = est;
        }
      }
    }
    const fmt = (n: number | null | undefined): string => (n === null || n === undefined ? 'n/a' : `${n.toFixed(1)} µs`);
    this.settle(
      best,
      best === 'madvise'
        ? `no mode beat madvise (${fmt(base)}/reset) by more than ${Math.round(this.options.margin * 100)} % + ${this.options.noiseUs} µs`
        : `${best} costs ${fmt(bestCost)}/reset against ${fmt(base)} for madvise`,
    );
  }

  private settle(mode: ActiveResetMode, reason: string): void {
    this.phase = 'settled';
    this.mode = mode;
    this.reason = reason;
    this.nextTrialAt = this.resets + this.options.reprobeEvery;
    this.losses.fill(0);
    this.lossFill = 0;
    this.lossNext = 0;
    this.lossCount = 0;
    this.settledFixedUs = this.fixedUs[mode] ?? Number.NaN;
    const samples = (this.trial.get(mode) ?? []).filter((x) => x.counted);
    this.settledPages = mode !== 'madvise' && samples.length > 0 ? median(samples.map((x) => x.copiedPages + x.faults + x.wpFaults)) : null;
    this.drifts.fill(0);
    this.driftFill = 0;
    this.driftNext = 0;
    this.driftCount = 0;
    this.madviseFixedUs = this.fixedUs.madvise ?? 0;
  }

  private startTrial(): void {
    this.phase = 'trial';
    this.trialIndex = 0;
    this.mode = 'madvise';
    this.reason = 'measuring';
    this.trial = new Map();
    this.madviseTimes = [];
    this.madviseFaults = [];
    this.trialResets = 0;
  }

  /**
   * A settled reset priced from its counts: the trial's fixed overhead, the
   * pages it copied, the faults its tenant took (for track-writes resets that
   * did not count private pages, the trial's share of fresh pages). Null
   * when the counts are not enough.
   */
  private countedCost(o: AutoObservation): number | null {
    const fixed = this.settledFixedUs;
    if (Number.isNaN(fixed)) return null;
    const copy = o.copiedPages * this.model.copyPageUs;
    const faults = this.faultsOf(o);
    if (faults !== null) return fixed + copy + this.faultsUs(faults.faults, faults.wp);
    if (RESET_MODE_TABLE[o.mode].counted !== 'tracked' || o.writtenPages === null) return null;
    const fresh = o.writtenPages * this.trackFreshShare;
    return fixed + copy + this.faultsUs(fresh, o.writtenPages - fresh);
  }

  private observeSettled(o: AutoObservation): void {
    if (this.candidates.length > 1 && this.resets >= this.nextTrialAt) {
      this.startTrial();
      return;
    }
    if (o.mode !== this.mode || o.warmup) return;
    if (this.mode === 'madvise') {
      this.guardMadvise(o);
      return;
    }
    if (this.drifted(o)) {
      this.startTrial();
      return;
    }
    const cost = this.countedCost(o);
    if (cost === null) return;
    // What madvise would have cost for the same tenant: its overhead plus a
    // fault per written page (known under track-writes), and at least the
    // faults the trial's tenants took under madvise (the thread's count sees
    // reads of dropped pages too, which no page count shows).
    const faults = o.writtenPages === null ? this.writtenPerTenant : Math.max(o.writtenPages, this.madviseTrialFaults ?? 0);
    const baseline = this.madviseFixedUs + faults * this.model.cowFaultUs;
    const loses = cost > baseline * (1 + this.options.margin) + this.options.noiseUs;
    if (!this.recordLoss(loses)) return;
    this.settle(
      'madvise',
      `${this.mode} became dearer than madvise (${this.lossCount} of the last ${GUARD_WINDOW} resets cost more than ` +
        `madvise would have; the last ${cost.toFixed(1)} vs ${baseline.toFixed(1)} µs)`,
    );
    // Look again sooner than usual: the workload changed once, it may change back.
    this.nextTrialAt = this.resets + Math.max(1, Math.floor(this.options.reprobeEvery / 4));
  }

  /**
   * True when most of the last GUARD_WINDOW sampled tenancies touched far
   * more, or far fewer, pages than the settled mode's tenants in the trial
   * (pages copied back plus faults: counts, not times): the workload changed,
   * and another mode may now be the cheapest, though this one still beats
   * madvise. Then a new trial decides.
   */
  private drifted(o: AutoObservation): boolean {
    if (o.tenantFaults === null || this.settledPages === null) return false;
    const pages = o.copiedPages + o.tenantFaults;
    const base = this.settledPages;
    const far = pages > DRIFT_FACTOR * base + DRIFT_SLACK_PAGES || pages < base / DRIFT_FACTOR - DRIFT_SLACK_PAGES;
    const flag = far ? 1 : 0;
    if (this.driftFill === GUARD_WINDOW) this.driftCount -= this.drifts[this.driftNext] ?? 0;
    else this.driftFill += 1;
    this.drifts[this.driftNext] = flag;
    this.driftCount += flag;
    this.driftNext = (this.driftNext + 1) % GUARD_WINDOW;
    return this.driftFill === GUARD_WINDOW && 2 * this.driftCount > GUARD_WINDOW;
  }

  /**
   * Settled on madvise: nothing is counted, but the reset's own time tells
   * when tenants started writing many more pages than during the trial (a
   * module first measured on requests that touch little memory). Then a
   * cheaper mode may exist: measure again now instead of after reprobeEvery.
   */
  private guardMadvise(o: AutoObservation): void {
    if (this.candidates.length === 1) return;
    let grew: boolean;
    if (this.madviseTrialFaults !== null) {
      // Counts, on the sampled tenancies: a busier machine does not move them.
      if (o.tenantFaults === null) return;
      grew = o.tenantFaults > this.madviseTrialFaults * MADVISE_GROWTH + GROWTH_SLACK_FAULTS;
    } else if (this.madviseFixedUs > 0) {
      grew = o.micros > this.madviseFixedUs * MADVISE_GROWTH + this.options.noiseUs;
    } else {
      return;
    }
    if (this.recordLoss(grew)) this.startTrial();
  }

  /** Adds one reset to the guard window; true when the window is full and most of it lost. */
  private recordLoss(lost: boolean): boolean {
    const flag = lost ? 1 : 0;
    if (this.lossFill === GUARD_WINDOW) this.lossCount -= this.losses[this.lossNext] ?? 0;
    else this.lossFill += 1;
    this.losses[this.lossNext] = flag;
    this.lossCount += flag;
    this.lossNext = (this.lossNext + 1) % GUARD_WINDOW;
    return this.lossFill === GUARD_WINDOW && 2 * this.lossCount > GUARD_WINDOW;
  }
}

/**
 * The pools' factory for a module's auto policy (see AutoResetChooserFactory):
 * priced with the measurement when it is there, the fallback prices until
 * then; a policy with madvise alone prices nothing.
 */
export const createAutoResetPolicy: AutoResetChooserFactory = (candidates, calibration, trackWrites) => {
  if (candidates.length <= 1) return new AutoResetPolicy(candidates, { cowFaultUs: 0, wpFaultUs: null, copyPageUs: 0 });
  const policy = new AutoResetPolicy(candidates, calibration === null ? fallbackCostModel(trackWrites) : costModelOf(calibration));
  policy.calibration = calibration;
  return policy;
};
