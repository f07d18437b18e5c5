/**
 * The isolation fuzz for raw slots (RawSlotPool), whose tenants are runtimes
 * written in JS that touch memory only through `lease.buffer`. The reference
 * is a plain model: a tenant must start with exactly `image` then zeros,
 * `initialBytes` long; writes and grows must land as in a Uint8Array model;
 * a buffer kept across grow or release must read as detached (length 0); and
 * a released lease must refuse every use with LEASE_RELEASED.
 *
 * Faults (mmap, madvise, ftruncate, fallocate, memfd_create) are injected around some
 * acquires and releases: the pool must then repair or replace the slot, never
 * hand out what a half-finished system call left behind.
 */
import { isCowpoolError } from '../errors.js';
import type { ResetMode } from '../config/pool-config-schema.js';
import { addon } from '../native/addon.js';
import type { PoolImage } from '../pool/pool-image.js';
import type { RawSlotLease } from '../pool/raw-slot-lease.js';
import { RawSlotPool } from '../pool/raw-slot-pool.js';
import { Prng } from './prng.js';
import { randomRawEscapes, RawEscapeRun, type RawEscapeAction } from './raw-slot-escapes.js';
import { replayCommand, type HostRun } from './run-isolation-case.js';
import { thrownDescription } from './run-action.js';

export type RawFaultSyscall = 'mmap' | 'madvise' | 'ftruncate' | 'fallocate' | 'memfd_create';

export interface RawFault {
  syscall: RawFaultSyscall;
  after: number;
}

export type RawAction =
  | { kind: 'write'; offset: number; length: number; value: number }
  | { kind: 'grow'; pages: number };

export interface RawTenantScript {
  /** Index into the case's images, or -1 for none. */
  image: number;
  /** Pages past the image's page-rounded length. */
  extraPages: number;
  /** Pages `grow` may add beyond initialBytes. */
  growRoomPages: number;
  actions: RawAction[];
  /** Keep `buffer` past release (and past a grow) and check it is detached. */
  keepBuffer: boolean;
  faultOnAcquire: RawFault | null;
  faultOnRelease: RawFault | null;
  /** Buffers handed to transfer, structuredClone, postMessage... before release (raw-slot-escapes.ts). */
  escapes?: RawEscapeAction[];
}

export interface RawCase {
  seed: number;
  images: Uint8Array[];
  maxSlots: number;
  tenants: RawTenantScript[];
}

const SYSCALLS: readonly RawFaultSyscall[] = ['mmap', 'madvise', 'ftruncate', 'fallocate', 'memfd_create'];

export function generateRawCase(seed: number, options: { faults?: boolean } = {}): RawCase {
  const prng = new Prng(seed);
  const faults = options.faults ?? true;
  const images: Uint8Array[] = [];
  for (let i = prng.int(1, 3); i > 0; i--) {
    const length = prng.weighted<number>([[30, prng.int(1, 100)], [50, prng.int(101, 20_000)], [20, prng.int(20_001, 200_000)]]);
    images.push(prng.chance(0.8) ? prng.bytes(length) : new Uint8Array(length).fill(prng.int(1, 255)));
  }
  const tenants: RawTenantScript[] = [];
  for (let t = prng.int(6, 14); t > 0; t--) {
    const actions: RawAction[] = [];
    for (let a = prng.int(0, 8); a > 0; a--) {
      actions.push(prng.chance(0.8)
        ? { kind: 'write', offset: prng.int(0, 300_000), length: prng.int(1, 20_000), value: prng.int(1, 255) }
        : { kind: 'grow', pages: prng.int(0, 3) });
    }
    tenants.push({
      image: prng.chance(0.2) ? -1 : prng.int(0, images.length - 1),
      extraPages: prng.int(0, 8),
      growRoomPages: prng.int(0, 6),
      actions,
      keepBuffer: prng.chance(0.3),
      faultOnAcquire: faults && prng.chance(0.1) ? { syscall: prng.pick(SYSCALLS), after: prng.int(0, 1) } : null,
      faultOnRelease: faults && prng.chance(0.12) ? { syscall: prng.pick(SYSCALLS), after: prng.int(0, 1) } : null,
    });
  }
  const maxSlots = prng.int(1, 2);
  randomRawEscapes(seed, tenants.length).forEach((escapes, t) => ((tenants[t] as RawTenantScript).escapes = escapes));
  return { seed, images, maxSlots, tenants };
}

class RawFailure extends Error {
  constructor(
    readonly tenant: number,
    message: string,
  ) {
    super(message);
  }
}

function withFault<T>(fault: RawFault | null, run: () => T): T {
  if (fault === null) return run();
  addon().injectFault(fault.syscall, fault.after, 1, 'ENOMEM');
  try {
    return run();
  } finally {
    addon().injectFault(null);
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (Buffer.compare(a, b) === 0) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectReleased(what: string, use: () => unknown, tenant: number): void {
  try {
    use();
  } catch (e) {
    if (isCowpoolError(e, 'LEASE_RELEASED')) return;
    throw new RawFailure(tenant, `${what} after release threw ${thrownDescription(e)}; expected LEASE_RELEASED`);
  }
  throw new RawFailure(tenant, `${what} after release succeeded; expected LEASE_RELEASED`);
}

/** Runs `c` on a RawSlotPool resetting with `mode`. The target is named `raw/<mode>`. */
export function runRawCase(c: RawCase, mode: ResetMode): HostRun {
  const target = `raw/${mode}`;
  const page = addon().pageSize;
  const pool = new RawSlotPool({ limits: { maxSlots: c.maxSlots, maxMemoryBytesPerSlot: '4MiB', guardBytes: '64KiB' }, reset: { mode } });
  let tenants = 0;
  let faultsInjected = false;
  const kept: ArrayBuffer[] = [];
  let failure: HostRun['failure'] = null;
  let current: RawSlotLease | null = null;
  let images: PoolImage[] = [];
  const escapes = new RawEscapeRun();
  const failIf = (tenant: number, message: string | null): void => {
    if (message !== null) throw new RawFailure(tenant, message);
  };
  try {
    images = c.images.map((bytes) => pool.image(bytes));
    for (const [index, script] of c.tenants.entries()) {
      const image = script.image < 0 ? null : (images[script.image] as PoolImage);
      const imageBytes = script.image < 0 ? new Uint8Array(0) : (c.images[script.image] as Uint8Array);
      const initialBytes = (image?.byteLength ?? 0) + script.extraPages * page;
      const maxBytes = initialBytes + script.growRoomPages * page;
      const acquire = (): RawSlotLease => pool.acquire(image, { initialBytes, maxBytes });
      let lease: RawSlotLease;
      try {
        if (script.faultOnAcquire !== null) faultsInjected = true;
        lease = withFault(script.faultOnAcquire, acquire);
      } catch (e) {
        if (script.faultOnAcquire === null || !isCowpoolError(e, 'SYSCALL_FAILED')) {
          throw new RawFailure(index, `acquire threw ${thrownDescription(e)}`);
        }
        try {
          lease = acquire();
        } catch (again) {
          throw new RawFailure(index, `after an injected ${script.faultOnAcquire.syscall} failure, the next acquire also failed: ${thrownDescription(again)}`);
        }
      }
      current = lease;
      tenants++;
      escapes.drop(index);
      for (const buffer of kept) {
        if (buffer.byteLength !== 0) throw new RawFailure(index, `a buffer kept from an earlier tenant still has ${buffer.byteLength} bytes; it must be detached`);
      }
      kept.length = 0;
      const model = new Uint8Array(maxBytes);
      model.set(imageBytes);
      let size = initialBytes;
      const check = (when: string): void => {
        if (lease.size !== size) throw new RawFailure(index, `${when}: size is ${lease.size}, expected ${size}`);
        const actual = new Uint8Array(lease.buffer);
        const at = firstDifference(actual, model.subarray(0, size));
        if (at >= 0) {
          throw new RawFailure(index, `${when}: byte ${at} (0x${at.toString(16)}) is ${actual[at]}, expected ${model[at]} (image ${script.image}, ${initialBytes} bytes initially)`);
        }
      };
      check('right after acquire');
      failIf(index, escapes.check('right after acquire'));
      for (const action of script.actions) {
        if (action.kind === 'write') {
          const buffer = lease.buffer;
          const offset = Math.min(action.offset, size);
          const length = Math.min(action.length, size - offset);
          new Uint8Array(buffer, offset, length).fill(action.value);
          model.fill(action.value, offset, offset + length);
        } else {
          const before = lease.buffer;
          const delta = action.pages * page;
          if (size + delta > maxBytes) {
            try {
              lease.grow(delta);
            } catch (e) {
              if (!isCowpoolError(e, 'GROW_LIMIT')) throw new RawFailure(index, `grow past maxBytes threw ${thrownDescription(e)}; expected GROW_LIMIT`);
              continue;
            }
            throw new RawFailure(index, 'grow past maxBytes succeeded');
          }
          lease.grow(delta);
          size += delta;
          if (before.byteLength !== 0) throw new RawFailure(index, `the buffer from before grow still has ${before.byteLength} bytes; grow must detach it`);
        }
      }
      check('after its actions');
      failIf(index, escapes.check('after its actions'));
      const quarantined = script.escapes?.length ? pool.stats().escapes.quarantined : 0;
      const escaped = escapes.escape(index, script.escapes, () => lease.buffer, model.subarray(0, size));
      failIf(index, escaped.failure);
      if (script.keepBuffer) kept.push(lease.buffer);
      const release = (): void => lease.release();
      try {
        if (script.faultOnRelease !== null) faultsInjected = true;
        withFault(script.faultOnRelease, release);
      } catch (e) {
        throw new RawFailure(index, `release threw ${thrownDescription(e)}; a release must succeed even when the reset fails`);
      }
      current = null;
      if (script.escapes?.length) {
        const delta = pool.stats().escapes.quarantined - quarantined;
        if (delta !== (escaped.detached ? 1 : 0)) {
          throw new RawFailure(index, `release quarantined ${delta} slot(s); a buffer was ${escaped.detached ? '' : 'not '}moved out`);
        }
      }
      failIf(index, escapes.afterRelease(index));
      expectReleased('lease.buffer', () => lease.buffer, index);
      expectReleased('lease.grow()', () => lease.grow(page), index);
      expectReleased('lease.release()', () => lease.release(), index);
      for (const buffer of kept) {
        if (buffer.byteLength !== 0) throw new RawFailure(index, `a buffer kept past release has ${buffer.byteLength} bytes; release must detach it`);
      }
    }
    failIf(c.tenants.length - 1, escapes.check('after the last tenant'));
    const stats = pool.stats();
    if (stats.leases.active !== 0) failure = failureOf(c.seed, target, null, `${stats.leases.active} raw lease(s) still active`);
    else if (!faultsInjected && stats.resetFailures > 0) failure = failureOf(c.seed, target, null, `${stats.resetFailures} raw slot reset(s) failed with no fault injected`);
  } catch (e) {
    failure = e instanceof RawFailure
      ? failureOf(c.seed, target, e.tenant, e.message)
      : failureOf(c.seed, target, null, `the run threw ${thrownDescription(e)}`);
  } finally {
    if (current !== null && !current.released) current.release();
    pool.close();
    // The pool's slots hold their own references; these are the case's.
    for (const image of images) image.release();
  }
  return { target, tenants, failure };
}

function failureOf(seed: number, target: string, tenant: number | null, message: string): NonNullable<HostRun['failure']> {
  return {
    seed,
    target,
    tenant,
    message: `seed ${seed}, target ${target}${tenant === null ? '' : `, tenant ${tenant}`}: ${message}`,
    replay: replayCommand(seed, target),
  };
}
