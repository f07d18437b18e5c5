/**
 * One raw slot as its pool tracks it: the state of an addon-reserved range
 * with guard pages (the addon's handle, `NativeRawSlot`, does the system
 * calls), for runtimes written in JS/TS that use cowpool as their instance
 * allocator. The instance pool's counterpart is V8Slot.
 *
 *   |<- guard ->|<- image (CoW) ->|<- zeros (slot memfd) ->|<- not yet in the file ->|<- guard ->|
 *               base
 *               |<------------ size (= buffer().byteLength) ------------>|
 *               |<------------------------- maxBytes ----------------------------------->|
 *
 * Invariant: `native` is non-null until destroy(); `state` is never leased
 *            without `native`.
 * Invariant: in `clean`, size === initialBytes and the bytes are the image then zeros.
 * Invariant: `image` is the image mapped at base (null: none), as configured.
 * Invariant: every buffer handed out before a grow/reset/release is detached
 *            (the addon does it), so a stale view reads length 0.
 * Invariant: a slot whose buffer escaped (moved out by transfer or a transfer
 *            list, still alive) is never reset or reused: release() retires
 *            it and hands its native slot to the caller, which keeps it until
 *            the addon unmaps it after the last escaped holder is collected.
 */
import { CowpoolError } from '../errors.js';
import { addon, native, type NativeImage, type NativeRawSlot } from '../native/addon.js';
import { resetRawSlot, SlotResetState, type PoolResetState, type ResetSettings } from './memory-reset.js';
import type { SlotState } from './slot-state.js';

export class RangeSlot {
  state: SlotState = 'cold';
  native: NativeRawSlot | null = null;
  image: NativeImage | null = null;
  initialBytes = 0;
  lastResetCopied = 0;
  /** Reset bookkeeping (trim counter, resident pages, tracking); `resetState.last` reports the last reset. */
  readonly resetState = new SlotResetState();

  constructor(
    readonly id: number,
    readonly maxBytes: number,
    readonly guardBytes: number,
  ) {}

  /** Entry: cold, clean, unknown or retired. Exit: leased with `image` and `initialBytes`. */
  acquire(image: NativeImage | null, initialBytes: number): NativeRawSlot {
    if (this.state === 'leased' || this.state === 'dirty') {
      throw new CowpoolError('SLOT_STATE', `raw slot ${this.id} is ${this.state}; only a clean, unknown or cold slot can be acquired`);
    }
    if (this.state === 'unknown' && this.native !== null) {
      // A failed system call can leave pages that configure and reset never
      // reach again (a failed image map is patched with anonymous zero pages,
      // which punching holes in the slot file does not clear, so a later tenant's
      // writes there would survive into the next): the full reset of a raw
      // slot is a new reservation.
      this.destroy();
    }
    if (this.native === null) {
      this.native = native(() => new (addon().RawSlot)(this.maxBytes, this.guardBytes));
      this.image = null;
      this.state = 'unknown';
    }
    const slot = this.native;
    if (this.state !== 'clean' || this.image !== image || this.initialBytes !== initialBytes) {
      try {
        // configure is the full reset: old image unmapped, the whole slot
        // file punched back to holes, new image mapped.
        this.resetState.remapped();
        native(() => slot.configure(image, initialBytes));
      } catch (e) {
        this.state = 'unknown';
        this.image = null;
        throw e;
      }
      this.image = image;
      this.initialBytes = initialBytes;
    }
    this.state = 'leased';
    return slot;
  }

  /**
   * Entry: leased. Exit: clean, or unknown when the reset failed (rethrows),
   * or retired when a buffer escaped: then returns the native slot, which
   * stays mapped until every escaped buffer is collected (quarantine).
   */
  release(settings: ResetSettings, resets: PoolResetState, moduleKey: string): NativeRawSlot | null {
    if (this.state !== 'leased' || this.native === null) {
      throw new CowpoolError('SLOT_STATE', `raw slot ${this.id} is ${this.state}; only a leased slot can be released`);
    }
    const slot = this.native;
    // Someone holds this tenant's pages through a buffer the slot cannot
    // detach: resetting would show them the next tenant. The addon refuses
    // too; the slot index gets a new reservation on its next use.
    if (slot.escapedBuffers > 0) return this.destroy();
    this.state = 'dirty';
    try {
      this.lastResetCopied = resetRawSlot(slot, this.initialBytes, settings, { pool: resets, slot: this.resetState, key: moduleKey });
    } catch (e) {
      this.state = 'unknown';
      throw e;
    }
    this.state = 'clean';
    return null;
  }

  /**
   * Unmaps the range and closes the slot memfd. Any state; idempotent. When
   * a buffer escaped and is still alive, the addon unmaps later (when it is
   * collected) and the native slot is returned so its owner can count it.
   */
  destroy(): NativeRawSlot | null {
    const slot = this.native;
    slot?.destroy();
    this.native = null;
    this.image = null;
    this.state = 'retired';
    return slot !== null && slot.escapedBuffers > 0 ? slot : null;
  }
}
