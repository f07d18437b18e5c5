/**
 * A module's initial memory as the pool holds it: the sealed memfd (shared by
 * content across the process) and the bytes (for the copy strategy).
 */
import { addon, native, type NativeImage } from '../native/addon.js';
import type { SlotImage } from '../slots/v8-slot.js';

export class PoolImage implements SlotImage {
  /** Affinity key: the content hash, or `empty` for a memory that starts all zero. */
  readonly key: string;

  private constructor(
    readonly native: NativeImage | null,
    readonly bytes: Uint8Array,
  ) {
    this.key = native === null ? 'empty' : native.hash;
  }

  /** Page-rounded length of the mapping (0 without data). */
  get byteLength(): number {
    return this.native === null ? 0 : this.native.byteLength;
  }

  /** Writes `bytes` into a sealed memfd (or finds the identical one already made). */
  static create(bytes: Uint8Array): PoolImage {
    if (bytes.length === 0) return new PoolImage(null, bytes);
    const image = native(() => new (addon().Image)(bytes));
    return new PoolImage(image, bytes);
  }

  /** Drops this holder's reference to the memfd; slots that map it keep it alive. */
  release(): void {
    this.native?.release();
  }
}
