/**
 * The auto policy (pure) priced by the thread's fault count: on a host where
 * a fault costs 10 µs it leaves madvise and track-writes (whose tenants take
 * a fault per written page) for a mode that spares the faults, settles
 * within a few dozen resets, does not move when every reset takes longer,
 * and for any consistent workload settles on a mode whose whole cost per
 * tenant is within the margin of the cheapest candidate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActiveResetMode } from '../src/slots/reset-mode-table.js';
import { AutoResetPolicy, DEFAULT_AUTO_OPTIONS, type ResetCostModel } from '../src/policy/auto-reset-policy.js';

const ALL: ActiveResetMode[] = ['madvise', 'restore-dirty', 'track-writes', 'keep-resident'];

/** One reset in `mode` and the tenancy before it: time, the thread's faults, and page counts. */
interface Tenancy {
  micros: number;
  /** Every minor fault the tenant took (write-protect ones included). */
  faults: number;
  /** Of those, write-protect faults (track-writes). */
  wpFaults?: number;
  copiedPages?: number;
}

/**
 * Feeds `n` resets the way memory-reset.ts does: a tenancy's faults are
 * known only when the policy asked for them after the reset before it;
 * page-scan counts come only from the modes that scan.
 */
function drive(policy: AutoResetPolicy, n: number, sim: (mode: ActiveResetMode, i: number) => Tenancy): ActiveResetMode[] {
  const modes: ActiveResetMode[] = [];
  let counted = false;
  for (let i = 0; i < n; i++) {
    const mode = policy.mode;
    modes.push(mode);
    const t = sim(mode, i);
    const scans = mode === 'restore-dirty' || mode === 'track-writes';
    policy.observe({
      mode,
      micros: t.micros,
      // restore-dirty keeps the written pages resident: none became private anew.
      cowFaults: scans ? (mode === 'track-writes' ? t.faults - (t.wpFaults ?? 0) : 0) : null,
      wpFaults: scans ? (t.wpFaults ?? 0) : null,
      tenantFaults: counted ? t.faults : null,
      writtenPages: mode === 'track-writes' ? t.faults : null,
      copiedPages: t.copiedPages ?? 0,
      privatePages: null,
      privateLimit: 512,
      warmup: false,
    });
    counted = policy.wantsTenantFaults;
  }
  return modes;
}

/**
 * data-1mib, dirty_1mb_of_memory on the host with 10 µs faults: each tenant
 * writes 256 pages. madvise drops them all (each write faults again);
 * track-writes keeps them private but write-protects them (a fault each);
 * restore-dirty and keep-resident copy them back and the tenant takes none.
 * The resets that copy take longer than the ones that drop or protect
 * (keep-resident 25 µs against restore-dirty's 40, as 31 against 49 µs per
 * operation there): only the tenants' faults make them the cheaper ones.
 */
function dirty1mb(load: (i: number) => number = () => 1) {
  return (mode: ActiveResetMode, i: number): Tenancy => {
    const f = load(i);
    switch (mode) {
      case 'madvise':
        return { micros: 15 * f, faults: 256 };
      case 'track-writes':
        return { micros: 12 * f, faults: 256, wpFaults: 256, copiedPages: 256 };
      case 'restore-dirty':
        return { micros: 40 * f, faults: 0, copiedPages: 256 };
      default:
        return { micros: 25 * f, faults: 0, copiedPages: 256 };
    }
  };
}

const SLOW_HOST: ResetCostModel = { cowFaultUs: 10, wpFaultUs: 10, copyPageUs: 0.1 };

describe('auto where a fault costs 10 µs', () => {
  it('settles on a mode that spares the tenant its faults, within a few dozen resets', () => {
    const policy = new AutoResetPolicy(ALL, SLOW_HOST);
    const ran = drive(policy, 500, dirty1mb());
    const settledAt = ran.findIndex((_, i) => i >= 1 && ran.slice(i).every((m) => m === ran[i]));
    expect(['keep-resident', 'restore-dirty']).toContain(policy.mode);
    expect(policy.mode).toBe('keep-resident');
    expect(settledAt).toBeGreaterThan(0);
    expect(settledAt).toBeLessThanOrEqual(48);
    expect(policy.report().trials).toBe(1);
  });

  it('would not choose a faulting mode even at the prices of a host with cheap faults', () => {
    const policy = new AutoResetPolicy(ALL, { cowFaultUs: 1.5, wpFaultUs: 0.7, copyPageUs: 0.05 });
    drive(policy, 300, dirty1mb());
    expect(['keep-resident', 'restore-dirty']).toContain(policy.mode);
  });

  it('re-decides from the same samples when the measured prices arrive', () => {
    // Faults priced at nothing (a wrong fallback): madvise looks as cheap as anything.
    const policy = new AutoResetPolicy(ALL, { cowFaultUs: 0, wpFaultUs: 0, copyPageUs: 0.1 });
    drive(policy, 100, (mode) => ({ ...dirty1mb()(mode, 0), micros: mode === 'madvise' ? 20 : 40 }));
    expect(policy.mode).toBe('madvise');
    policy.reprice(SLOW_HOST);
    expect(policy.mode).not.toBe('madvise');
    expect(policy.mode).not.toBe('track-writes');
    expect(policy.report().trials).toBe(1);
  });

  it('stays put when every reset takes eight times longer for a while (load): counts do not change', () => {
    const policy = new AutoResetPolicy(ALL, SLOW_HOST);
    const ran = drive(policy, 800, dirty1mb((i) => (i >= 200 && i < 600 ? 8 : 1)));
    expect(new Set(ran.slice(100))).toEqual(new Set([policy.mode]));
  });

  it('leaves madvise when tenants that wrote nothing start writing 256 pages', () => {
    const policy = new AutoResetPolicy(ALL, SLOW_HOST);
    const idle = (mode: ActiveResetMode): Tenancy =>
      mode === 'keep-resident' ? { micros: 22, faults: 0, copiedPages: 256 } : { micros: 3, faults: 0 };
    drive(policy, 200, idle);
    expect(policy.mode).not.toBe('keep-resident');
    const ran = drive(policy, 200, dirty1mb());
    const at = ran.findIndex((m) => m === 'keep-resident');
    expect(at).toBeGreaterThan(0);
    // The guard's window (15 sampled tenancies, one in four) and one trial.
    expect(at).toBeLessThanOrEqual(4 * 15 + 60);
    expect(ran.slice(at + 40).every((m) => m === 'keep-resident')).toBe(true);
  });
});

describe('auto when the workload changes under a mode that still beats madvise', () => {
  it('measures again and moves from restore-dirty to keep-resident once tenants write 256 pages', () => {
    const policy = new AutoResetPolicy(ALL, SLOW_HOST);
    // Tenants write 64 pages: restore-dirty copies just those back.
    const light = (mode: ActiveResetMode): Tenancy => {
      if (mode === 'keep-resident') return { micros: 25, faults: 0, copiedPages: 256 };
      if (mode === 'restore-dirty') return { micros: 10, faults: 0, copiedPages: 64 };
      if (mode === 'track-writes') return { micros: 8, faults: 64, wpFaults: 64, copiedPages: 64 };
      return { micros: 8, faults: 64 };
    };
    drive(policy, 200, light);
    expect(policy.mode).toBe('restore-dirty');
    const ran = drive(policy, 300, dirty1mb());
    // restore-dirty (40 µs) never loses to madvise (15 µs + 256 faults), yet keep-resident (25 µs) is cheaper.
    const at = ran.findIndex((m) => m === 'keep-resident');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(4 * 15 + 60);
    expect(ran.slice(at + 40).every((m) => m === 'keep-resident')).toBe(true);
  });
});

describe('auto, any consistent workload', () => {
  const tenancyArb = fc.record({
    micros: fc.double({ min: 1, max: 500, noNaN: true }),
    faults: fc.integer({ min: 0, max: 300 }),
  });
  const workloadArb = fc.record({
    madvise: tenancyArb,
    'restore-dirty': tenancyArb,
    'track-writes': tenancyArb,
    'keep-resident': tenancyArb,
  });
  const modelArb = fc.record({
    cowFaultUs: fc.double({ min: 0.5, max: 20, noNaN: true }),
    wpFaultUs: fc.double({ min: 0.2, max: 20, noNaN: true }),
    copyPageUs: fc.constant(0.1),
  });

  it('settles on a mode whose true cost per tenant is within the margin of the cheapest (reset times ±5 %)', () => {
    fc.assert(
      fc.property(workloadArb, modelArb, fc.nat(), (work, model, seed) => {
        // Reset-time noise only; fault counts are what they are.
        const sim = (mode: ActiveResetMode, i: number): Tenancy => {
          const w = work[mode as keyof typeof work];
          const h = Math.sin((i + 1) * 12.9898 + mode.length * 78.233 + seed) * 43758.5453;
          return { micros: w.micros * (1 + 0.05 * (2 * (h - Math.floor(h)) - 1)), faults: w.faults };
        };
        const truth = (m: ActiveResetMode): number => {
          const w = work[m as keyof typeof work];
          return w.micros + w.faults * model.cowFaultUs;
        };
        const policy = new AutoResetPolicy(ALL, model);
        drive(policy, 300, sim);
        expect(policy.phase).toBe('settled');
        const cheapest = Math.min(...ALL.map(truth));
        const { margin, noiseUs } = DEFAULT_AUTO_OPTIONS;
        // madvise is kept unless another mode beats it by margin + noiseUs; medians are within ±5 %.
        const bound = (cheapest * 1.05 + noiseUs) / ((1 - margin) * 0.95);
        expect(truth(policy.mode)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 200 },
    );
  });
});
