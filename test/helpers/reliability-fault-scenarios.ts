/**
 * Fault scenarios for test/reliability-syscall-faults.test.ts. Each runs in
 * its own child process (a failed system call must never take the process
 * down, and the armed fault is process-wide): it makes one system call fail
 * through the addon's injectFault hook, records how the pool reported it and
 * the slot states right after, then checks that the pool keeps serving exact
 * images. The child prints the report as its last line of JSON.
 */
import { isCowpoolError, createPool, RawSlotPool, type InstancePool, type PreparedModule, type RawSlotLease } from '../../src/index.js';
import { addon } from '../../src/native/addon.js';
import type { SlotState } from '../../src/slots/slot-state.js';
import { emitModule } from '../../src/fuzz/emit-module.js';

const PAGE = 65536;

/** Reset settings for `mode`; keep-resident copies only the first page back, so the rest is still dropped by madvise. */
const RESET = (mode: string, extra: ResetExtra = {}) => ({ mode: mode as 'madvise', keepResidentBytes: '64KiB', ...extra });

/** Reset settings that steer a reset into one of its paths (over the cap, a trim). */
export interface ResetExtra {
  /** '64KiB': a tenant that writes its whole 192 KiB memory passes the cap, so the reset drops everything (madvise). */
  maxResidentBytes?: string;
  /** 1: every reset of a copying mode is a trim (drops everything with madvise). */
  trimEvery?: number;
}

/**
 * A reset made to fail: `syscalls` are each armed to fail once after `after`
 * good calls (several: whichever the mode makes first, for auto).
 */
export interface ResetFaultSpec {
  slots: 'v8' | 'raw';
  mode: string;
  syscalls: readonly string[];
  after?: number;
  extra?: ResetExtra;
}

export interface FaultReport {
  /** The injected failures that fired (from the addon's counter). */
  fired: number;
  /** What the faulted operation threw: CowpoolError code, syscall, errno; null when it did not throw. */
  error: { code: string; syscall: string | null; errno: string | null } | null;
  /** stats().slots.byState right after the faulted operation. */
  byStateAfterFault: Record<SlotState, number>;
  resetFailures: number;
  /** Every later tenant saw exactly the image then zeros (checked over several tenants and modules). */
  laterTenantsExact: boolean;
  /** Where the first wrong byte was, when not exact. */
  detail: string;
  byStateAtEnd: Record<SlotState, number>;
}

type ErrorInfo = FaultReport['error'];

function errorInfo(e: unknown): ErrorInfo {
  if (!isCowpoolError(e)) throw e;
  return { code: e.code, syscall: e.syscall ?? null, errno: e.errno ?? null };
}

function capture(run: () => void): ErrorInfo {
  try {
    run();
    return null;
  } catch (e) {
    return errorInfo(e);
  }
}

async function captureAsync(run: () => Promise<unknown>): Promise<ErrorInfo> {
  try {
    await run();
    return null;
  } catch (e) {
    return errorInfo(e);
  }
}

/** Arms `syscall` (each of them) to fail `count` times after `after` good calls, runs `run`, disarms. */
function withFault<T>(syscall: string | readonly string[], after: number, count: number, run: () => T): T {
  for (const call of typeof syscall === 'string' ? [syscall] : syscall) addon().injectFault(call, after, count, 'ENOMEM');
  try {
    return run();
  } finally {
    addon().injectFault(null);
  }
}

/** The same for an async operation: armed until it settles (prepare writes the image after compiling). */
async function withFaultAsync<T>(syscall: string, run: () => Promise<T>): Promise<T> {
  addon().injectFault(syscall, 0, 1, 'ENOMEM');
  try {
    return await run();
  } finally {
    addon().injectFault(null);
  }
}

// ---------------------------------------------------------------------------
// InstancePool (V8 slots)

/** Two modules of one memory shape (so they share slots): a long image and a short one. */
function imageModules(): { long: Uint8Array; short: Uint8Array; longImage: Uint8Array; shortImage: Uint8Array } {
  const longImage = new Uint8Array(70_000).map((_, i) => (i * 7 + 1) & 0xff || 1);
  const shortImage = new Uint8Array([9, 8, 7, 6, 5]);
  const shape = (bytes: Uint8Array) => ({
    memory: { minPages: 3, maxPages: 6 },
    data: [{ mode: 'active' as const, offset: 0, bytes }],
    globals: [],
    tables: [],
    elems: [],
    funcCount: 1,
    start: null,
  });
  return { long: emitModule(shape(longImage)), short: emitModule(shape(shortImage)), longImage, shortImage };
}

/** First byte of `memory` that is not `image` then zeros, or -1. */
function wrongByte(memory: Uint8Array, image: Uint8Array): number {
  for (let i = 0; i < memory.length; i++) if (memory[i] !== (i < image.length ? image[i] : 0)) return i;
  return -1;
}

interface PoolFixture {
  pool: InstancePool;
  long: PreparedModule;
  short: PreparedModule;
  longImage: Uint8Array;
  shortImage: Uint8Array;
}

async function poolFixture(mode: string, extra: ResetExtra = {}): Promise<PoolFixture> {
  const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 }, reset: RESET(mode, extra) });
  const m = imageModules();
  return { pool, long: await pool.prepare(m.long), short: await pool.prepare(m.short), longImage: m.longImage, shortImage: m.shortImage };
}

/** A tenant that checks its memory, then scribbles over all of it (so a missed reset shows in the next). */
function tenant(f: PoolFixture, which: 'long' | 'short'): string {
  const lease = f.pool.instantiate(which === 'long' ? f.long : f.short);
  const view = new Uint8Array((lease.memory as WebAssembly.Memory).buffer);
  const at = wrongByte(view, which === 'long' ? f.longImage : f.shortImage);
  view.fill(0xee);
  lease.release();
  return at < 0 ? '' : `${which} image tenant: byte ${at} is ${view[at]}`;
}

function laterTenants(f: PoolFixture): string {
  for (const which of ['long', 'short', 'short', 'long', 'long'] as const) {
    const problem = tenant(f, which);
    if (problem !== '') return problem;
  }
  return '';
}

function report(f: { stats(): { slots: { byState: Record<SlotState, number> }; resetFailures: number } }, fired0: number, error: ErrorInfo, after: Record<SlotState, number>, detail: string): FaultReport {
  const stats = f.stats();
  return {
    fired: addon().injectedFaults() - fired0,
    error,
    byStateAfterFault: after,
    resetFailures: stats.resetFailures,
    laterTenantsExact: detail === '',
    detail,
    byStateAtEnd: stats.slots.byState,
  };
}

/**
 * The slot maps an image while mmap fails (`attempts` tries while it keeps
 * failing): each instantiate throws, the slot is `unknown`, and once the
 * failures stop the next use repairs it.
 */
async function v8MapFails(mode: string, attempts: number): Promise<FaultReport> {
  const f = await poolFixture(mode);
  tenant(f, 'short');
  const fired0 = addon().injectedFaults();
  const errors = withFault('mmap', 0, 100, () => {
    const out: ErrorInfo[] = [];
    for (let i = 0; i < attempts; i++) out.push(capture(() => f.pool.instantiate(f.long).release()));
    return out;
  });
  // Report the first error; every attempt must have failed the same typed way.
  const error = errors.every((e) => e !== null && e.code === errors[0]?.code && e.syscall === errors[0]?.syscall) ? errors[0] ?? null : null;
  const after = f.pool.stats().slots.byState;
  const detail = laterTenants(f);
  const out = report(f.pool, fired0, error, after, detail);
  f.pool.close();
  return out;
}

/**
 * Writing the image's memfd fails during prepare: a typed error; prepare and
 * the pool work afterwards. `syscall` null: the fault was armed before the
 * addon loaded (COWPOOL_FAULT_INJECT), so nothing is armed here.
 */
async function v8PrepareFails(syscall: string | null): Promise<FaultReport> {
  const fired0 = syscall === null ? 0 : addon().injectedFaults();
  const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
  const m = imageModules();
  const prepare = (): Promise<PreparedModule> => pool.prepare(m.long);
  const error = await captureAsync(() => (syscall === null ? prepare() : withFaultAsync(syscall, prepare)));
  const after = pool.stats().slots.byState;
  const f: PoolFixture = { pool, long: await pool.prepare(m.long), short: await pool.prepare(m.short), longImage: m.longImage, shortImage: m.shortImage };
  const detail = laterTenants(f);
  const out = report(pool, fired0, error, after, detail);
  pool.close();
  return out;
}

// ---------------------------------------------------------------------------
// RawSlotPool (raw slots)

interface RawFixture {
  pool: RawSlotPool;
  long: ReturnType<RawSlotPool['image']>;
  short: ReturnType<RawSlotPool['image']>;
  longBytes: Uint8Array;
  shortBytes: Uint8Array;
}

function rawFixture(mode: string, extra: ResetExtra = {}): RawFixture {
  const pool = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '2MiB', guardBytes: '64KiB' }, reset: RESET(mode, extra) });
  const m = imageModules();
  return { pool, long: pool.image(m.longImage), short: pool.image(m.shortImage), longBytes: m.longImage, shortBytes: m.shortImage };
}

function rawTenant(f: RawFixture, which: 'long' | 'short' | 'none', grow = 0): string {
  const image = which === 'long' ? f.long : which === 'short' ? f.short : null;
  const bytes = which === 'long' ? f.longBytes : which === 'short' ? f.shortBytes : new Uint8Array(0);
  const lease: RawSlotLease = f.pool.acquire(image, { initialBytes: 3 * PAGE, maxBytes: 6 * PAGE });
  const view = new Uint8Array(lease.buffer);
  const at = wrongByte(view, bytes);
  const problem = at < 0 ? (view.length === 3 * PAGE ? '' : `size ${view.length}`) : `${which} raw tenant: byte ${at} is ${view[at]}`;
  if (grow > 0) lease.grow(grow * PAGE);
  new Uint8Array(lease.buffer).fill(0xee);
  lease.release();
  return problem;
}

function rawLaterTenants(f: RawFixture): string {
  for (const which of ['short', 'none', 'long', 'short', 'none', 'long'] as const) {
    const problem = rawTenant(f, which, which === 'none' ? 1 : 0);
    if (problem !== '') return problem;
  }
  return '';
}

function closeRaw(f: RawFixture): void {
  f.pool.close();
  f.long.release();
  f.short.release();
}

/** A raw slot fails while configuring for a new image (mmap), or while being created (mmap, memfd_create). */
function rawAcquireFails(mode: string, syscall: string, after: number, cold: boolean): FaultReport {
  const f = rawFixture(mode);
  if (!cold) rawTenant(f, 'short');
  const fired0 = addon().injectedFaults();
  const error = withFault(syscall, after, 1, () => capture(() => f.pool.acquire(f.long, { initialBytes: 3 * PAGE }).release()));
  const stateAfter = f.pool.stats().slots.byState;
  const out = report(f.pool, fired0, error, stateAfter, rawLaterTenants(f));
  closeRaw(f);
  return out;
}

/**
 * The reset after a tenant fails: release still succeeds (the failure is
 * counted, not shown to the tenant), the slot is `unknown`, and every later
 * tenant sees its exact image.
 */
function v8ResetFails(spec: ResetFaultSpec, f: PoolFixture): FaultReport {
  // Warm the slot (and, for the tracking modes, their registration) with a few tenants first.
  for (let i = 0; i < 3; i++) tenant(f, 'long');
  const lease = f.pool.instantiate(f.long);
  new Uint8Array((lease.memory as WebAssembly.Memory).buffer).fill(0xab);
  const fired0 = addon().injectedFaults();
  const error = withFault(spec.syscalls, spec.after ?? 0, 1, () => capture(() => lease.release()));
  const after = f.pool.stats().slots.byState;
  const detail = laterTenants(f);
  const out = report(f.pool, fired0, error, after, detail);
  f.pool.close();
  return out;
}

/** The same for a raw slot (the image part is reset like a V8 slot's; fallocate punches out the rest). */
function rawResetFails(spec: ResetFaultSpec): FaultReport {
  const f = rawFixture(spec.mode, spec.extra);
  for (let i = 0; i < 3; i++) rawTenant(f, 'long');
  const lease = f.pool.acquire(f.long, { initialBytes: 3 * PAGE, maxBytes: 6 * PAGE });
  lease.grow(PAGE);
  new Uint8Array(lease.buffer).fill(0xab);
  const fired0 = addon().injectedFaults();
  const error = withFault(spec.syscalls, spec.after ?? 0, 1, () => capture(() => lease.release()));
  const stateAfter = f.pool.stats().slots.byState;
  const out = report(f.pool, fired0, error, stateAfter, rawLaterTenants(f));
  closeRaw(f);
  return out;
}

export async function runResetFault(spec: ResetFaultSpec): Promise<FaultReport> {
  if (spec.slots === 'raw') return rawResetFails(spec);
  return v8ResetFails(spec, await poolFixture(spec.mode, spec.extra));
}

/**
 * grow makes no system call (the slot file is already maxBytes long): with
 * the calls that used to back it failing, it still succeeds, the new pages
 * read zero and release is clean.
 */
function rawGrowWithFaults(mode: string): FaultReport {
  const f = rawFixture(mode);
  const lease = f.pool.acquire(f.short, { initialBytes: 3 * PAGE, maxBytes: 6 * PAGE });
  const fired0 = addon().injectedFaults();
  const error = withFault('ftruncate', 0, 1, () => withFault('fallocate', 0, 1, () => capture(() => lease.grow(PAGE))));
  const stateAfter = f.pool.stats().slots.byState;
  let detail = '';
  if (lease.size !== 4 * PAGE || lease.buffer.byteLength !== 4 * PAGE) detail = `size after grow: ${lease.size}`;
  else if (new Uint8Array(lease.buffer, 3 * PAGE).some((b) => b !== 0)) detail = 'a grown page is not zero';
  new Uint8Array(lease.buffer).fill(0xcd);
  lease.release();
  detail ||= rawLaterTenants(f);
  const out = report(f.pool, fired0, error, stateAfter, detail);
  closeRaw(f);
  return out;
}

export const SCENARIOS = {
  'v8: mmap fails mapping the image': (mode: string) => v8MapFails(mode, 1),
  'v8: mmap keeps failing, also for the full reset': (mode: string) => v8MapFails(mode, 3),
  'v8: memfd_create fails writing an image': () => v8PrepareFails('memfd_create'),
  'v8: ftruncate fails writing an image': () => v8PrepareFails('ftruncate'),
  'v8: memfd_create fails from COWPOOL_FAULT_INJECT': () => v8PrepareFails(null),
  'raw: mmap fails putting the slot file back under the old image': (mode: string) => Promise.resolve(rawAcquireFails(mode, 'mmap', 0, false)),
  'raw: mmap fails mapping the new image': (mode: string) => Promise.resolve(rawAcquireFails(mode, 'mmap', 1, false)),
  'raw: mmap fails reserving a new slot': (mode: string) => Promise.resolve(rawAcquireFails(mode, 'mmap', 0, true)),
  'raw: memfd_create fails creating a new slot': (mode: string) => Promise.resolve(rawAcquireFails(mode, 'memfd_create', 0, true)),
  'raw: ftruncate fails creating a new slot': (mode: string) => Promise.resolve(rawAcquireFails(mode, 'ftruncate', 0, true)),
  'raw: fallocate fails clearing the slot to configure it': (mode: string) => Promise.resolve(rawAcquireFails(mode, 'fallocate', 0, false)),
  'raw: grow with ftruncate and fallocate failing': (mode: string) => Promise.resolve(rawGrowWithFaults(mode)),
} as const;

export type ScenarioName = keyof typeof SCENARIOS;

export async function runScenario(name: ScenarioName, mode: string): Promise<FaultReport> {
  return SCENARIOS[name](mode);
}
