/**
 * The raw slot pool: linear memories for runtimes written in JS/TS that use
 * cowpool as their instance allocator. A slot is an addon-reserved range with
 * guard pages; `acquire` gives it the module's image copy-on-write and
 * `release` resets it in place.
 *
 *   pool.image(bytes) ──► PoolImage ──acquire(image, sizes)──► RawSlotLease ──release()──► warm slot
 *
 * Invariant: `#slots[i]` exists for every index the allocator has handed out.
 * Invariant: a slot index is used by the allocator iff its RangeSlot is leased.
 * Invariant: `#quarantine` holds the native slots set aside because a buffer
 *            escaped (see RangeSlot); each leaves it once the addon unmapped it.
 * Invariant: `#resets` is this pool's reset state, used by no other pool;
 *            closed with the pool (a slot released after close is unmapped, not reset).
 */
import { CowpoolError } from '../errors.js';
import { parseRawSlotPoolConfig } from '../config/load-config.js';
import type { RawSlotPoolConfig, RawSlotPoolConfigInput } from '../config/pool-config-schema.js';
import { addon, type NativeRawSlot } from '../native/addon.js';
import { createAutoResetPolicy } from '../policy/auto-reset-policy.js';
import { IndexAllocator } from '../policy/index-allocator.js';
import { PoolResetState, type ResetModeCounters, type ResetSettings } from '../slots/memory-reset.js';
import { RangeSlot } from '../slots/range-slot.js';
import { EagerFuncTable } from '../table/eager-func-table.js';
import type { ElementInit, FuncTable } from '../table/element-segments.js';
import { LazyFuncTable } from '../table/lazy-func-table.js';
import { SLOT_STATES, type SlotState } from '../slots/slot-state.js';
import { nativeImageOf, PoolImage } from './pool-image.js';
import { RawSlotLease } from './raw-slot-lease.js';
import { residentPrivateBytesOf, type MemoryCounters } from './memory-counters.js';
import { acquireWithin, SlotWaiters } from './slot-waiters.js';

export interface RawAcquireOptions {
  /** Accessible bytes at acquire: a multiple of the page size, at least the image length. */
  initialBytes: number;
  /** Most bytes `grow` may reach; at most `limits.maxMemoryBytesPerSlot`. Default: that limit. */
  maxBytes?: number;
}

export interface RawSlotPoolStats {
  slots: { total: number; limit: number; byState: Record<SlotState, number> };
  /** `reclaimed`: leases garbage-collected without release(); their slots were unmapped, never reused as they were. */
  leases: { active: number; acquired: number; released: number; reclaimed: number };
  affinity: { hits: number; cold: number; evicted: number };
  resetFailures: number;
  /**
   * Slots whose buffer was moved out (ArrayBuffer#transfer, a transfer list)
   * and still alive at release: `quarantined` since the pool started (each
   * was replaced, never reset or reused), `held` still mapped for a holder.
   */
  escapes: { quarantined: number; held: number };
  exhausted: number;
  memory: MemoryCounters;
  /** This pool's reset counters, keyed by the mode that actually ran. */
  reset: Record<string, ResetModeCounters>;
}

/** The reset state of a raw slot pool, for tests. Not exported from the package. */
export let rawSlotPoolResetState: (pool: RawSlotPool) => PoolResetState;

export class RawSlotPool {
  readonly config: RawSlotPoolConfig;
  readonly #allocator: IndexAllocator;
  readonly #slots: RangeSlot[] = [];
  readonly #waiters = new SlotWaiters();
  readonly #reset: ResetSettings;
  readonly #resets = new PoolResetState(createAutoResetPolicy);
  readonly #pageSize: number;
  #closed = false;
  readonly #registry = new FinalizationRegistry<RangeSlot>((slot) => this.#reclaim(slot));
  #quarantine: NativeRawSlot[] = [];
  readonly #counters = { active: 0, acquired: 0, released: 0, reclaimed: 0, hits: 0, cold: 0, evicted: 0, resetFailures: 0, exhausted: 0, bytesRestored: 0, quarantined: 0 };

  constructor(config: RawSlotPoolConfigInput | RawSlotPoolConfig = {}) {
    this.config = parseRawSlotPoolConfig(config);
    this.#pageSize = addon().pageSize;
    const { limits } = this.config;
    this.#allocator = new IndexAllocator({
      maxSlots: limits.maxSlots,
      maxUnusedWarmSlots: limits.maxUnusedWarmSlots,
      maxSlotsPerKey: limits.maxSlotsPerImage,
    });
    this.#reset = { ...this.config.reset };
  }

  /** Writes `bytes` (a module's initial memory) into a sealed image; identical bytes share one. */
  image(bytes: Uint8Array): PoolImage {
    this.#assertOpen('image()');
    if (!(bytes instanceof Uint8Array)) throw new CowpoolError('INVALID_ARGUMENT', 'image(bytes): bytes must be a Uint8Array');
    if (bytes.length > this.config.limits.maxImageBytes) {
      throw new CowpoolError('INVALID_ARGUMENT', `image(bytes): ${bytes.length} bytes is above limits.maxImageBytes (${this.config.limits.maxImageBytes})`);
    }
    return PoolImage.create(bytes, 0, { userReleasable: true });
  }

  /** A slot holding `image` then zeros, `initialBytes` long. Throws POOL_EXHAUSTED when none is free. */
  acquire(image: PoolImage | null, options: RawAcquireOptions): RawSlotLease {
    this.#assertOpen('acquire()');
    const request = this.#validate(image, options);
    const lease = this.#tryAcquire(request);
    if (lease === null) throw this.#exhaustedError(request.key);
    return lease;
  }

  /** Like acquire, but waits for a release when `exhausted.policy` is `wait`. */
  async acquireAsync(image: PoolImage | null, options: RawAcquireOptions): Promise<RawSlotLease> {
    this.#assertOpen('acquireAsync()');
    const request = this.#validate(image, options);
    const { exhausted } = this.config;
    const timeout = exhausted.policy === 'wait' ? exhausted.timeoutMs : 0;
    return acquireWithin(() => this.#tryAcquire(request), this.#waiters, timeout, () => this.#exhaustedError(request.key).message);
  }

  /**
   * A funcref table for one of the runtime's instances, built from the
   * module's element segments: lazy (an entry is materialised on first read,
   * reset clears a bitmap) when `lazyTables` is on — the default — else eager.
   * Keep it with the slot and `reset()` it on release.
   */
  createTable<F>(size: number, segments: readonly ElementInit[], materialize: (funcIndex: number) => F, maximum: number | null = null): FuncTable<F> {
    this.#assertOpen('createTable()');
    return this.config.lazyTables
      ? new LazyFuncTable(size, segments, materialize, maximum)
      : new EagerFuncTable(size, segments, materialize, maximum);
  }

  stats(): RawSlotPoolStats {
    const byState = Object.fromEntries(SLOT_STATES.map((s) => [s, 0])) as Record<SlotState, number>;
    for (const slot of this.#slots) byState[slot.state] += 1;
    byState.cold += this.config.limits.maxSlots - this.#slots.length;
    const c = this.#counters;
    return {
      slots: { total: this.#slots.filter((s) => s.native !== null).length, limit: this.config.limits.maxSlots, byState },
      leases: { active: c.active, acquired: c.acquired, released: c.released, reclaimed: c.reclaimed },
      affinity: { hits: c.hits, cold: c.cold, evicted: c.evicted },
      resetFailures: c.resetFailures,
      escapes: { quarantined: c.quarantined, held: this.#held() },
      exhausted: c.exhausted,
      memory: { bytesRestored: c.bytesRestored, residentPrivateBytes: residentPrivateBytesOf(this.#slots) },
      reset: this.#resets.statistics(),
    };
  }

  /** Unmaps every idle slot and fails waiters; slots still leased are unmapped when released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.rejectAll(new CowpoolError('POOL_CLOSED', 'the pool was closed while waiting for a slot'));
    for (const slot of this.#slots) if (slot.state !== 'leased') this.#setAside(slot.destroy());
    this.#resets.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  static {
    rawSlotPoolResetState = (pool) => pool.#resets;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new CowpoolError('POOL_CLOSED', `${what}: the pool is closed; create a new one`);
  }

  #validate(image: PoolImage | null, options: RawAcquireOptions) {
    if (image !== null && !(image instanceof PoolImage)) {
      throw new CowpoolError('INVALID_ARGUMENT', 'acquire(image): image must come from pool.image(bytes), or be null');
    }
    const limit = this.config.limits.maxMemoryBytesPerSlot;
    const { initialBytes } = options;
    const maxBytes = options.maxBytes ?? limit;
    const page = this.#pageSize;
    for (const [field, value] of [['initialBytes', initialBytes], ['maxBytes', maxBytes]] as const) {
      if (!Number.isSafeInteger(value) || value < 0 || value % page !== 0) {
        throw new CowpoolError('INVALID_ARGUMENT', `acquire(): ${field} must be a non-negative multiple of ${page} (got ${String(value)})`);
      }
    }
    if (maxBytes > limit) {
      throw new CowpoolError('INVALID_ARGUMENT', `acquire(): maxBytes (${maxBytes}) is above limits.maxMemoryBytesPerSlot (${limit})`);
    }
    if (initialBytes > maxBytes) {
      throw new CowpoolError('INVALID_ARGUMENT', `acquire(): initialBytes (${initialBytes}) is above maxBytes (${maxBytes})`);
    }
    const imageLength = image?.byteLength ?? 0;
    if (imageLength > initialBytes) {
      throw new CowpoolError('INVALID_ARGUMENT', `acquire(): the image (${imageLength} bytes) does not fit in initialBytes (${initialBytes})`);
    }
    return { image, initialBytes, maxBytes, key: image?.key ?? 'empty' };
  }

  #exhaustedError(key: string): CowpoolError {
    this.#counters.exhausted += 1;
    const limits = this.config.limits;
    const why = this.#allocator.exhaustedReason(key) === 'key-limit'
      ? `this image already holds limits.maxSlotsPerImage (${limits.maxSlotsPerImage}) slots`
      : `all limits.maxSlots (${limits.maxSlots}) slots are leased`;
    return new CowpoolError('POOL_EXHAUSTED', `no raw slot free: ${why}; release slots, raise the limit, or use exhausted.policy "wait"`);
  }

  #tryAcquire(request: { image: PoolImage | null; initialBytes: number; maxBytes: number; key: string }): RawSlotLease | null {
    const allocation = this.#allocator.alloc(request.key);
    if (allocation === null) return null;
    const c = this.#counters;
    if (allocation.kind === 'affine') c.hits += 1;
    else if (allocation.kind === 'cold') c.cold += 1;
    else c.evicted += 1;
    const limits = this.config.limits;
    const slot = (this.#slots[allocation.slot] ??= new RangeSlot(allocation.slot, limits.maxMemoryBytesPerSlot, limits.guardBytes));
    try {
      slot.acquire(request.image === null ? null : nativeImageOf(request.image), request.initialBytes);
    } catch (e) {
      this.#allocator.free(slot.id, null);
      throw e;
    }
    c.acquired += 1;
    c.active += 1;
    const token = {};
    const lease = new RawSlotLease(slot, request.maxBytes, () => {
      this.#registry.unregister(token);
      this.#giveBack(slot, request.key);
    });
    this.#registry.register(lease, slot, token);
    return lease;
  }

  /**
   * A lease was garbage-collected unreleased. Its buffer may still be
   * reachable, so the slot is destroyed (every buffer detached, the range
   * unmapped) rather than reset and handed to someone else.
   */
  #reclaim(slot: RangeSlot): void {
    if (slot.state !== 'leased') return;
    const c = this.#counters;
    c.active -= 1;
    c.reclaimed += 1;
    this.#setAside(slot.destroy());
    this.#allocator.free(slot.id, null);
    this.#waiters.notify();
  }

  /** A native slot left mapped for an escaped buffer: counted, watched until the addon unmaps it. */
  #setAside(escaped: NativeRawSlot | null): void {
    if (escaped === null) return;
    this.#counters.quarantined += 1;
    this.#quarantine.push(escaped);
    this.#held();
  }

  /** Quarantined slots still mapped; drops the ones the addon has unmapped. */
  #held(): number {
    this.#quarantine = this.#quarantine.filter((s) => s.escapedBuffers > 0);
    return this.#quarantine.length;
  }

  #giveBack(slot: RangeSlot, key: string): void {
    const c = this.#counters;
    c.active -= 1;
    c.released += 1;
    if (this.#closed) {
      // Nothing will be served from it again: unmap it rather than reset it.
      this.#setAside(slot.destroy());
    } else {
      try {
        const escaped = slot.release(this.#reset, this.#resets, `raw:${key}`);
        if (escaped === null) c.bytesRestored += slot.lastResetCopied;
        this.#setAside(escaped);
      } catch {
        // `unknown`: the next acquire reconfigures it from scratch.
        c.resetFailures += 1;
      }
    }
    this.#allocator.free(slot.id, slot.state === 'clean' ? key : null);
    this.#waiters.notify();
  }
}

/** @deprecated The raw slot pool's old name: use RawSlotPool. */
export const SlotPool = RawSlotPool;
/** @deprecated The raw slot pool's old name: use RawSlotPool. */
export type SlotPool = RawSlotPool;
/** @deprecated Use RawSlotPoolStats. */
export type SlotPoolStats = RawSlotPoolStats;
