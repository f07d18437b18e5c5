/**
 * A tenant's hold on a raw slot. `buffer` covers exactly the accessible
 * bytes; `grow` and `release` detach every buffer handed out before, so a
 * stale view reads length 0 and never reaches pages that changed.
 *
 * Invariant: `#slot` is non-null exactly while the lease is active.
 */
import { CowpoolError } from '../errors.js';
import { native } from '../native/addon.js';
import type { RangeSlot } from '../slots/range-slot.js';
import { leaseReleasedError } from './exports-view.js';

export class RawSlotLease {
  #slot: RangeSlot | null;
  readonly #giveBack: () => void;

  constructor(
    slot: RangeSlot,
    /** Most bytes `grow` may reach. */
    readonly maxBytes: number,
    giveBack: () => void,
  ) {
    this.#slot = slot;
    this.#giveBack = giveBack;
  }

  /** The accessible memory: `[0, size)`. Detached by grow and release. */
  get buffer(): ArrayBuffer {
    return this.#active('buffer').native!.buffer();
  }

  /** Accessible bytes now. */
  get size(): number {
    return this.#active('size').native!.size;
  }

  /** Slot index, for diagnostics. */
  get slotId(): number {
    return this.#active('slotId').id;
  }

  get released(): boolean {
    return this.#slot === null;
  }

  /**
   * Adds `deltaBytes` (a page multiple) of zeroed memory; returns the previous
   * size. Throws GROW_LIMIT past `maxBytes`.
   */
  grow(deltaBytes: number): number {
    const slot = this.#active('grow()');
    const raw = slot.native!;
    const before = raw.size;
    const next = before + deltaBytes;
    if (!Number.isSafeInteger(deltaBytes) || deltaBytes < 0) {
      throw new CowpoolError('INVALID_ARGUMENT', `grow(): deltaBytes must be a non-negative integer (got ${String(deltaBytes)})`);
    }
    if (next > this.maxBytes) {
      throw new CowpoolError('GROW_LIMIT', `grow(${deltaBytes}): ${next} bytes would pass this slot's maxBytes (${this.maxBytes})`);
    }
    native(() => raw.grow(next));
    return before;
  }

  /** Gives the slot back; it is reset for its next tenant. A second call throws LEASE_RELEASED. */
  release(): void {
    if (!(#slot in this)) {
      // Only a copy gets here: postMessage copies public fields, never the lease.
      throw new CowpoolError(
        'WRONG_OWNER',
        'release(): this is not a raw slot lease of this thread; a RawSlotLease cannot be sent to another thread (postMessage copies only its public fields). Release it in the thread that acquired it.',
      );
    }
    this.#active('release()');
    this.#slot = null;
    this.#giveBack();
  }

  [Symbol.dispose](): void {
    if (this.#slot !== null) this.release();
  }

  #active(what: string): RangeSlot {
    if (this.#slot === null) throw leaseReleasedError(what);
    return this.#slot;
  }
}
