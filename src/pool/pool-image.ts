/**
 * A module's initial memory as the pool holds it: the sealed memfd (shared by
 * content and length across the process) and the data bytes (for the copy
 * strategy).
 *
 *   0              bytes.length                      byteLength (initial memory)
 *   |---- data ----|------ holes: read as zeros, never written ------|
 *
 * For a V8 slot the file spans the memory's whole initial size, so every
 * page of the memory is a page of the file: a tenant that only reads leaves
 * nothing private, on hosts without a shared zero page too (DESIGN
 * invariant 8). A memory with no data gets an image of holes only.
 *
 * Invariant: `native` is null iff the image has no byte at all (no data and
 *            a 0-byte memory); then `key` is `empty`.
 */
import { addon, native, type NativeImage } from '../native/addon.js';
import type { SlotImage } from '../slots/v8-slot.js';

export class PoolImage implements SlotImage {
  /** Affinity key: the hash of the data and file length, or `empty` without an image. */
  readonly key: string;

  private constructor(
    readonly native: NativeImage | null,
    readonly bytes: Uint8Array,
  ) {
    this.key = native === null ? 'empty' : native.hash;
  }

  /** Length of the mapping: the file size (0 without an image). */
  get byteLength(): number {
    return this.native === null ? 0 : this.native.byteLength;
  }

  /**
   * Writes `bytes` into a sealed memfd of `byteLength` bytes (or finds the
   * identical one already made). `byteLength`: the memory's initial size for
   * a V8 slot; omitted, the data rounded up to a page (raw slots).
   */
  static create(bytes: Uint8Array, byteLength = 0): PoolImage {
    if (bytes.length === 0 && byteLength === 0) return new PoolImage(null, bytes);
    const image = native(() => new (addon().Image)(bytes, byteLength === 0 ? undefined : byteLength));
    return new PoolImage(image, bytes);
  }

  /** Drops this holder's reference to the memfd; slots that map it keep it alive. */
  release(): void {
    this.native?.release();
  }
}
