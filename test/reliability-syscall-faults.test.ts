/**
 * Failed system calls (mmap, madvise, ftruncate, memfd_create made to fail
 * through the addon's injectFault hook, or COWPOOL_FAULT_INJECT at load), one
 * child process per scenario: the failing operation reports a typed
 * SYSCALL_FAILED naming the call (or, for a reset, is counted and hidden from
 * the tenant), the slot is left `unknown` in stats().slots.byState, and the
 * pool keeps serving: every later tenant sees exactly its image then zeros —
 * for InstancePool (V8 slots) and RawSlotPool (raw slots). The child must exit
 * normally (status 0, no signal).
 */
import { describe, expect, it } from 'vitest';
import { resetModesSupport } from '../src/fuzz/reset-mode-support.js';
import type { FaultReport, ScenarioName } from './helpers/reliability-fault-scenarios.js';
import { lastJsonLine, runTsChild } from './helpers/reliability-child.js';

const MODES = (await resetModesSupport()).filter((s) => s.supported).map((s) => s.mode);
const SCENARIOS_URL = new URL('./helpers/reliability-fault-scenarios.ts', import.meta.url).href;

async function scenario(name: ScenarioName, mode = 'madvise', env: Record<string, string> = {}): Promise<FaultReport> {
  const child = await runTsChild(
    `const { runScenario } = await import(${JSON.stringify(SCENARIOS_URL)});
     console.log(JSON.stringify(await runScenario(${JSON.stringify(name)}, ${JSON.stringify(mode)})));`,
    { env },
  );
  expect({ status: child.status, signal: child.signal }, child.stderr).toEqual({ status: 0, signal: null });
  return lastJsonLine<FaultReport>(child.stdout);
}

const syscallFailed = (syscall: string, errno = 'ENOMEM') => ({ code: 'SYSCALL_FAILED', syscall, errno });

describe.concurrent('InstancePool (V8 slots)', () => {
  it('mmap fails mapping the image: SYSCALL_FAILED, the slot is unknown, later tenants see exact images', async () => {
    const r = await scenario('v8: mmap fails mapping the image');
    expect(r.fired).toBe(1);
    expect(r.error).toEqual(syscallFailed('mmap'));
    expect(r.byStateAfterFault.unknown).toBe(1);
    expect(r.laterTenantsExact, r.detail).toBe(true);
    expect(r.byStateAtEnd.unknown).toBe(0);
  });

  it('mmap keeps failing (the full reset of the unknown slot fails too): every try is SYSCALL_FAILED, then the pool recovers', async () => {
    const r = await scenario('v8: mmap keeps failing, also for the full reset');
    expect(r.fired).toBeGreaterThanOrEqual(3);
    expect(r.error).toEqual(syscallFailed('mmap'));
    expect(r.byStateAfterFault.unknown).toBe(1);
    expect(r.laterTenantsExact, r.detail).toBe(true);
  });

  it.each(['memfd_create', 'ftruncate'] as const)('%s fails writing an image in prepare: SYSCALL_FAILED; prepare and the pool work afterwards', async (syscall) => {
    const r = await scenario(`v8: ${syscall} fails writing an image`);
    expect(r.fired).toBe(1);
    expect(r.error).toEqual(syscallFailed(syscall));
    expect(r.byStateAfterFault.unknown).toBe(0);
    expect(r.laterTenantsExact, r.detail).toBe(true);
  });

  it('COWPOOL_FAULT_INJECT arms a fault before the addon loads: the first image fails with its errno, the next works', async () => {
    // The fault fires on the second call: the addon's own memfd_create probe at load must succeed.
    const r = await scenario('v8: memfd_create fails from COWPOOL_FAULT_INJECT', 'madvise', { COWPOOL_FAULT_INJECT: 'memfd_create:1:1:EMFILE' });
    expect(r.fired).toBe(1);
    expect(r.error).toEqual(syscallFailed('memfd_create', 'EMFILE'));
    expect(r.laterTenantsExact, r.detail).toBe(true);
  });

  it.each(MODES)('reset %s: a failing madvise or mmap leaves the slot unknown, counted, and the next tenant exact', async (mode) => {
    let fired = 0;
    for (const name of ['v8: madvise fails in the reset', 'v8: mmap fails in the reset'] as const) {
      const r = await scenario(name, mode);
      expect(r.error, name).toBeNull();
      // A mode that made no such call has nothing to report; one that did must have marked the slot.
      expect(r.byStateAfterFault.unknown, name).toBe(r.fired > 0 ? 1 : 0);
      expect(r.resetFailures, name).toBe(r.fired > 0 ? 1 : 0);
      expect(r.laterTenantsExact, `${name}: ${r.detail}`).toBe(true);
      fired += r.fired;
    }
    if (mode === 'madvise' || mode === 'keep-resident') expect(fired).toBeGreaterThan(0);
  });
});

describe.concurrent('RawSlotPool (raw slots)', () => {
  it.each([
    ['raw: mmap fails putting the slot file back under the old image', 'mmap'],
    ['raw: mmap fails mapping the new image', 'mmap'],
    ['raw: fallocate fails clearing the slot to configure it', 'fallocate'],
  ] as const)('%s: SYSCALL_FAILED, the slot is unknown, later tenants exact', async (name, syscall) => {
    const r = await scenario(name);
    expect(r.fired).toBe(1);
    expect(r.error).toEqual(syscallFailed(syscall));
    expect(r.byStateAfterFault.unknown).toBe(1);
    expect(r.laterTenantsExact, r.detail).toBe(true);
    expect(r.byStateAtEnd.unknown).toBe(0);
  });

  it.each([
    ['raw: mmap fails reserving a new slot', 'mmap'],
    ['raw: memfd_create fails creating a new slot', 'memfd_create'],
    ['raw: ftruncate fails creating a new slot', 'ftruncate'],
  ] as const)('%s: SYSCALL_FAILED, no slot is left half made, later tenants exact', async (name, syscall) => {
    const r = await scenario(name);
    expect(r.fired).toBe(1);
    expect(r.error).toEqual(syscallFailed(syscall));
    expect(r.byStateAfterFault.leased + r.byStateAfterFault.clean + r.byStateAfterFault.dirty).toBe(0);
    expect(r.laterTenantsExact, r.detail).toBe(true);
  });

  it('grow makes no system call: with ftruncate and fallocate failing it succeeds, new pages zero, later tenants exact', async () => {
    const r = await scenario('raw: grow with ftruncate and fallocate failing');
    expect(r.fired).toBe(0);
    expect(r.error).toBeNull();
    expect(r.byStateAfterFault.leased).toBe(1);
    expect(r.laterTenantsExact, r.detail).toBe(true);
  });

  it.each(MODES)('reset %s: a failing madvise or fallocate leaves the slot unknown, counted, and the next tenant exact', async (mode) => {
    let fired = 0;
    for (const name of ['raw: madvise fails in the reset', 'raw: fallocate fails in the reset'] as const) {
      const r = await scenario(name, mode);
      expect(r.error, name).toBeNull();
      expect(r.byStateAfterFault.unknown, name).toBe(r.fired > 0 ? 1 : 0);
      expect(r.resetFailures, name).toBe(r.fired > 0 ? 1 : 0);
      expect(r.laterTenantsExact, `${name}: ${r.detail}`).toBe(true);
      fired += r.fired;
    }
    // Every mode punches out the part past the image.
    expect(fired).toBeGreaterThan(0);
  });
});
