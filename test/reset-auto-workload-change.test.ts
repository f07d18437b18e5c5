import { describe, expect, it } from 'vitest';
import type { ActiveResetMode } from '../src/slots/reset-mode-table.js';
import { AutoResetPolicy, DEFAULT_AUTO_OPTIONS } from '../src/policy/auto-reset-policy.js';

const MODEL = { cowFaultUs: 2, wpFaultUs: 0.8, copyPageUs: 0.1 };

/** One reset as memory-reset.ts reports it, for tenants writing `pages` pages. */
function observe(policy: AutoResetPolicy, pages: number): ActiveResetMode {
  const mode = policy.mode;
  const counted = mode !== 'madvise' || policy.wantsCounts;
  policy.observe({
    mode,
    // madvise drops each written page (~0.2 µs each here); restore-dirty scans and copies them back.
    micros: mode === 'madvise' ? 3 + pages * 0.2 : 3 + pages * 0.12,
    // Under madvise every written page faulted; restore-dirty keeps them resident.
    cowFaults: counted ? (mode === 'madvise' ? pages : 0) : null,
    wpFaults: counted ? 0 : null,
    tenantFaults: null,
    writtenPages: mode === 'madvise' && counted ? pages : null,
    copiedPages: mode === 'madvise' ? 0 : pages,
    privatePages: mode === 'madvise' ? 0 : pages,
    privateLimit: 256,
    warmup: false,
  });
  return mode;
}

describe('auto: a module first measured on tenants that write little', () => {
  it('leaves madvise soon after its tenants start writing many pages, long before the scheduled re-probe', () => {
    const policy = new AutoResetPolicy(['restore-dirty'], MODEL);
    for (let i = 0; i < 200; i++) observe(policy, 0);
    expect(policy.report().phase).toBe('settled');
    expect(policy.mode).toBe('madvise');
    let switchedAfter = -1;
    for (let i = 0; i < 400; i++) {
      if (observe(policy, 256) === 'restore-dirty' && policy.report().phase === 'settled') {
        switchedAfter = i;
        break;
      }
    }
    expect(switchedAfter).toBeGreaterThan(0);
    expect(switchedAfter).toBeLessThan(DEFAULT_AUTO_OPTIONS.reprobeEvery / 10);
  });

  it('does not re-measure while the tenants keep writing as little as in the trial', () => {
    const policy = new AutoResetPolicy(['restore-dirty'], MODEL);
    for (let i = 0; i < 200; i++) observe(policy, 0);
    const trials = policy.report().trials;
    for (let i = 0; i < 2000; i++) observe(policy, i % 50 === 0 ? 40 : 0);
    expect(policy.report().trials).toBe(trials);
    expect(policy.mode).toBe('madvise');
  });
});
