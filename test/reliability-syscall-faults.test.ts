/**
 * Failed system calls (mmap, madvise, ftruncate, fallocate, memfd_create, and the
 * ioctl/pread of the dirty-page scans made to fail
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
import { resetSupport } from '../src/slots/memory-reset.js';
import type { FaultReport, ResetFaultSpec, ScenarioName } from './helpers/reliability-fault-scenarios.js';
import { lastJsonLine, runTsChild } from './helpers/reliability-child.js';

const MODES = (await resetModesSupport()).filter((s) => s.supported).map((s) => s.mode);
const SCENARIOS_URL = new URL('./helpers/reliability-fault-scenarios.ts', import.meta.url).href;
const SUPPORT = resetSupport();

interface ResetFaultCase {
  label: string;
  spec: Omit<ResetFaultSpec, 'slots'>;
  env?: Record<string, string>;
}

/**
 * For each reset mode, a failing call on every path that mode takes here:
 * its scan (ioctl for PAGEMAP_SCAN, pread for the pagemap file), the
 * write-protect after a track-writes scan, the madvise of a trim and of an
 * over-cap drop. Each case must fire (a case that fires nothing tests nothing).
 */
function resetFaultCases(mode: string): ResetFaultCase[] {
  const OVER_CAP = { maxResidentBytes: '64KiB' };
  const TRIM = { trimEvery: 1 };
  const restore = SUPPORT.modes['restore-dirty'];
  const scanCall = restore === 'restore-dirty' ? 'ioctl' : 'pread';
  switch (mode) {
    case 'madvise':
    case 'keep-resident':
      return [{ label: 'madvise', spec: { mode, syscalls: ['madvise'] } }];
    case 'restore-dirty': {
      if (restore === 'madvise') return [{ label: 'madvise', spec: { mode, syscalls: ['madvise'] } }];
      const cases: ResetFaultCase[] = [
        { label: `${scanCall} in the dirty scan`, spec: { mode, syscalls: [scanCall] } },
        { label: 'madvise dropping an over-cap slot', spec: { mode, syscalls: ['madvise'], extra: OVER_CAP } },
        { label: 'madvise in a trim', spec: { mode, syscalls: ['madvise'], extra: TRIM } },
      ];
      if (restore === 'restore-dirty' && SUPPORT.capabilities.pagemapRead) {
        // The pagemap-file source, as on a kernel without PAGEMAP_SCAN.
        cases.push({ label: 'pread in the dirty scan (pagemap file)', spec: { mode, syscalls: ['pread'] }, env: { COWPOOL_DISABLE: 'pagemap_scan' } });
      }
      return cases;
    }
    case 'track-writes':
      if (SUPPORT.modes['track-writes'] !== 'track-writes') return resetFaultCases(SUPPORT.modes['track-writes']);
      return [
        { label: 'ioctl in the written-page scan', spec: { mode, syscalls: ['ioctl'] } },
        { label: 'ioctl write-protecting the restored pages', spec: { mode, syscalls: ['ioctl'], after: 1 } },
        { label: 'madvise dropping an over-cap slot', spec: { mode, syscalls: ['madvise'], extra: OVER_CAP } },
        { label: 'madvise in a trim', spec: { mode, syscalls: ['madvise'], extra: TRIM } },
      ];
    default:
      // auto: whichever of these its chosen mode makes first.
      return [{ label: 'madvise, ioctl or pread', spec: { mode, syscalls: ['madvise', 'ioctl', 'pread'] } }];
  }
}

async function resetFault(slots: 'v8' | 'raw', c: ResetFaultCase): Promise<FaultReport> {
  const spec: ResetFaultSpec = { slots, ...c.spec };
  const child = await runTsChild(
    `const { runResetFault } = await import(${JSON.stringify(SCENARIOS_URL)});
     console.log(JSON.stringify(await runResetFault(${JSON.stringify(spec)})));`,
    { env: c.env ?? {} },
  );
  expect({ status: child.status, signal: child.signal }, child.stderr).toEqual({ status: 0, signal: null });
  return lastJsonLine<FaultReport>(child.stdout);
}

/** A failed reset is counted, hidden from the tenant, leaves the slot unknown, and the next tenants are exact. */
function expectFailedReset(r: FaultReport, label: string): void {
  expect(r.fired, `${label}: faults fired`).toBeGreaterThan(0);
  expect(r.error, label).toBeNull();
  expect(r.byStateAfterFault.unknown, label).toBe(1);
  expect(r.resetFailures, label).toBe(1);
  expect(r.laterTenantsExact, `${label}: ${r.detail}`).toBe(true);
  expect(r.byStateAtEnd.unknown, label).toBe(0);
}

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

  it.each(MODES)('reset %s: a failing call on each reset path leaves the slot unknown, counted, and the next tenant exact', async (mode) => {
    for (const c of resetFaultCases(mode)) expectFailedReset(await resetFault('v8', c), `${mode}, ${c.label}`);
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

  it.each(MODES)('reset %s: a failing call on each reset path (and fallocate past the image) leaves the slot unknown, counted, and the next tenant exact', async (mode) => {
    // Every mode punches out the part past the image.
    const cases = [...resetFaultCases(mode), { label: 'fallocate', spec: { mode, syscalls: ['fallocate'] } }];
    for (const c of cases) expectFailedReset(await resetFault('raw', c), `${mode}, ${c.label}`);
  });
});
