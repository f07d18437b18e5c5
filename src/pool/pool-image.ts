/**
 * A module's initial memory as the pool holds it: the sealed memfd (shared by
 * content and length across the process) and, for the copy strategy only,
 * the data bytes in the JS heap.
 *
 *   0              dataLength                        byteLength (initial memory)
 *   |---- data ----|------ holes: read as zeros, never written ------|
 *
 * For a V8 slot the file spans the memory's whole initial size, so every
 * page of the memory is a page of the file: a tenant that only reads leaves
 * nothing private, on hosts without a shared zero page too (DESIGN
 * invariant 8). A memory with no data gets an image of holes only.
 *
 * Invariant: `#native` is null iff the image has no byte at all (no data and
 *            a 0-byte memory); then `key` is `empty`.
 * Invariant: `#native` (the addon's handle: its fd, its release) is reachable
 *            only through nativeImageOf, which the package does not export;
 *            only an image a user made with RawSlotPool#image can be released
 *            by the user (`#userReleasable`), a prepared module's is released
 *            by its pool's close().
 * Invariant: `bytes` is non-null only for an image made with `keepBytes` (a
 *            module served by the copy strategy, which writes them into each
 *            memory); everywhere else the memfd is the only copy, so a 64 MiB
 *            image costs no 64 MiB of JS heap.
 */
import { CowpoolError } from '../errors.js';
import { addon, native, type NativeImage } from '../native/addon.js';

/** The addon's handle of `image` (package-internal: slots and pools use it, users never see it). */
export let nativeImageOf: (image: PoolImage) => NativeImage | null;
/** Drops the pool's reference to `image`'s memfd, whoever made it (a pool closing). */
export let releaseImage: (image: PoolImage) => void;

export class PoolImage {
  /** Affinity key: the hash of the data and file length, or `empty` without an image. */
  readonly key: string;
  readonly #native: NativeImage | null;
  readonly #userReleasable: boolean;

  private constructor(
    image: NativeImage | null,
    /** The data bytes (no holes) when made with `keepBytes` (the copy strategy); null otherwise. */
    readonly bytes: Uint8Array | null,
    userReleasable: boolean,
  ) {
    this.#native = image;
    this.#userReleasable = userReleasable;
    this.key = image === null ? 'empty' : image.hash;
  }

  static {
    nativeImageOf = (image) => image.#native;
    releaseImage = (image) => image.#native?.release();
  }

  /** Length of the mapping: the file size (0 without an image). */
  get byteLength(): number {
    return this.#native === null ? 0 : this.#native.byteLength;
  }

  /** Length of the data (the file before its holes); known without the bytes. */
  get dataLength(): number {
    return this.#native === null ? 0 : this.#native.dataLength;
  }

  /**
   * Writes `bytes` into a sealed memfd of `byteLength` bytes (or finds the
   * identical one already made). `byteLength`: the memory's initial size for
   * a V8 slot; omitted, the data rounded up to a page (raw slots).
   * `keepBytes`: hold `bytes` for slots that copy them (the copy strategy);
   * otherwise the image does not reference them once made.
   */
  static create(bytes: Uint8Array, byteLength = 0, options: { userReleasable?: boolean; keepBytes?: boolean } = {}): PoolImage {
    const userReleasable = options.userReleasable ?? false;
    const kept = options.keepBytes === true ? bytes : null;
    if (bytes.length === 0 && byteLength === 0) return new PoolImage(null, kept, userReleasable);
    const image = native(() => new (addon().Image)(bytes, byteLength === 0 ? undefined : byteLength));
    return new PoolImage(image, kept, userReleasable);
  }

  /**
   * Drops this holder's reference to the memfd (an image from
   * RawSlotPool#image, once no acquire will name it again); slots that map
   * it keep it alive. A prepared module's image is its pool's to release.
   */
  release(): void {
    if (!this.#userReleasable) {
      throw new CowpoolError('WRONG_OWNER', "this image belongs to a prepared module; its pool releases it on close()");
    }
    this.#native?.release();
  }
}
