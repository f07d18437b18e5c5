/**
 * One pooled WebAssembly.Memory — a "V8 slot".
 *
 *   memory.buffer data pointer (V8 owns the 10 GiB reservation around it)
 *   |<-- mappedLength: MAP_PRIVATE view of the image -->|<-- zero fill -->|<-- V8's PROT_NONE -->
 *   |<------------------ shape.initialPages × 64 KiB ------------------->|
 *   A pool's image spans the whole initial memory (data, then holes), so in
 *   a pool the zero fill is empty: pages a tenant only reads stay pages of
 *   the file, never private, on any host (DESIGN invariant 8).
 *
 * Invariant: `memory` is non-null iff state is clean, leased, dirty or unknown.
 * Invariant: in `clean`, memory.buffer.byteLength === shapeBytes(shape) and its
 *            bytes are the image (fill 'map') or all zeros (fill 'copy').
 * Invariant: `mappedImage` is the image under [0, mappedLength); mappedLength
 *            is 0 iff mappedImage is null; always 0 for fill 'copy'.
 * Invariant: a memory that grew is never made clean again at its grown size:
 *            release retires it (DESIGN invariant 5), unless the tenant had a
 *            virtual size (`virtual`): then [0, initial) is reset as usual and
 *            the grown tail [initial, byteLength) is zeroed and left PROT_NONE,
 *            so the next tenant (virtual too: `acquire` refuses a grown memory
 *            to any other) sees the module's initial size.
 * Invariant: `virtual` is true only while a tenant with a virtual size holds
 *            the slot (fill 'map' only: a copy-fill reset writes every page).
 * Invariant: `exposed` (the grown tail opened for raw JS access, all zeros)
 *            only while such a tenant holds the slot; release closes it.
 * Invariant: `alias` is null or the one alias of this memory JS may read
 *            (length = the tenant's virtual size); detached before the size
 *            changes and when the tenant leaves. `aliasEscaped`: one was
 *            moved away (transfer) before the slot could detach it, so the
 *            memory is retired, never shrunk under it.
 * Invariant: every native call receives `memory.buffer` read afresh, so a
 *            detached buffer is refused rather than used (DESIGN invariant 3).
 */
import { CowpoolError } from '../errors.js';
import { addon, native, type NativeImage } from '../native/addon.js';
import { releaseGrownTail } from './grown-tail.js';
import { resetV8Memory, SlotResetState, type PoolResetState, type ResetSettings } from './memory-reset.js';
import { sameShape, shapeBytes, type MemoryShape } from './memory-shape.js';
import type { SlotState } from './slot-state.js';

const WASM_PAGE = 65536;

/** How a slot gets its initial contents: copy-on-write mapping or a plain copy. */
export type SlotFill = 'map' | 'copy';

export class V8Slot {
  state: SlotState = 'cold';
  memory: WebAssembly.Memory | null = null;
  shape: MemoryShape | null = null;
  fill: SlotFill = 'map';
  mappedImage: NativeImage | null = null;
  mappedLength = 0;
  /** Memories this slot dropped (grew, failed a full reset, reclaimed, pool closed). */
  retirements = 0;
  /** Bytes restored by copying during the last reset (stats). */
  lastResetCopied = 0;
  /** Reset bookkeeping (trim counter, resident pages, tracking); `resetState.last` reports the last reset. */
  readonly resetState = new SlotResetState();
  readonly #resetContext: { pool: PoolResetState; slot: SlotResetState; key: string } = {
    pool: null as unknown as PoolResetState,
    slot: this.resetState,
    key: '',
  };
  virtual = false;
  /** This tenancy's grown tail was opened for raw access (exposeTail). */
  exposed = false;
  /** Counts acquisitions: a view made for one tenancy is dead in the next. */
  tenancy = 0;
  alias: ArrayBuffer | null = null;
  aliasEscaped = false;

  constructor(readonly id: number) {}

  /**
   * The function a virtually sized module imports (`cowpool.unprotect`): its
   * `memory.grow` calls it to open pages `[fromPage, toPage)` that an earlier
   * tenant's growth left PROT_NONE. Made once per slot; refuses any range
   * outside the grown tail. Entry: leased, virtual.
   */
  readonly unprotect = (fromPage: number, toPage: number): void => {
    const memory = this.memory;
    if (this.state !== 'leased' || !this.virtual || memory === null) {
      throw new CowpoolError('SLOT_STATE', `slot ${this.id} is ${this.state}; only a leased slot with a virtual size opens pages`);
    }
    const buffer = memory.buffer;
    const from = (fromPage >>> 0) * WASM_PAGE;
    const to = (toPage >>> 0) * WASM_PAGE;
    if (!(from >= shapeBytes(this.shape as MemoryShape) && from <= to && to <= buffer.byteLength)) {
      throw new CowpoolError('INVALID_ARGUMENT', `slot ${this.id}: pages [${fromPage}, ${toPage}) are not in its grown tail`);
    }
    this.dropAlias();
    native(() => addon().protectMemory(buffer, from, to, true));
  };

  /**
   * What JS may read of the memory for a tenant whose virtual size is
   * `virtualBytes`: the memory's own buffer when that is its whole length,
   * else an alias of exactly that length (the pages past it are PROT_NONE:
   * a JS read there would fault outside wasm code). Entry: leased, virtual.
   */
  bufferFor(virtualBytes: number): ArrayBuffer {
    const memory = this.memory;
    if (this.state !== 'leased' || !this.virtual || memory === null) {
      throw new CowpoolError('SLOT_STATE', `slot ${this.id} is ${this.state}; only a leased slot with a virtual size has a virtual buffer`);
    }
    const raw = memory.buffer;
    if (raw.byteLength === virtualBytes) {
      this.dropAlias();
      return raw;
    }
    if (this.alias !== null && this.alias.byteLength === virtualBytes) return this.alias;
    this.dropAlias();
    if (virtualBytes === 0) return new ArrayBuffer(0);
    const alias = native(() => addon().aliasMemory(memory, virtualBytes));
    this.alias = alias;
    return alias;
  }

  /**
   * Opens the grown tail (read-write) for the rest of this tenancy: the raw
   * instance was handed to JavaScript (`lease.instance`, `ctx.exports`),
   * which reaches the memory at its physical size, and a JS read of a
   * PROT_NONE page would fault the process rather than throw. The tail holds
   * only zeros (every release zeroes it), so nothing of another tenant shows;
   * the price is that wasm accesses past memory.size stop trapping for this
   * tenant. Release closes the tail again. Entry: leased, virtual.
   */
  exposeTail(): void {
    const memory = this.memory;
    if (this.state !== 'leased' || !this.virtual || memory === null) {
      throw new CowpoolError('SLOT_STATE', `slot ${this.id} is ${this.state}; only a leased slot with a virtual size has a tail to open`);
    }
    if (this.exposed) return;
    const buffer = memory.buffer;
    const initial = shapeBytes(this.shape as MemoryShape);
    if (buffer.byteLength > initial) native(() => addon().protectMemory(buffer, initial, buffer.byteLength, true));
    this.exposed = true;
  }

  /** Detaches the alias handed out, noting one someone else moved away. */
  private dropAlias(): void {
    const alias = this.alias;
    if (alias === null) return;
    this.alias = null;
    if (!addon().detachAlias(alias)) this.aliasEscaped = true;
  }

  /**
   * Hands the slot out holding exactly the image then zeros, in a memory of
   * `shape`: `image` (the file: data, then holes; null only for a 0-byte
   * memory) mapped for fill 'map', its data `bytes` copied for fill 'copy'
   * (only fill 'copy' reads them; 'map' takes null).
   * Entry: cold, clean, unknown or retired. Exit: leased.
   * On failure the slot is `unknown` (or `retired`) and the error is thrown.
   */
  acquire(image: NativeImage | null, bytes: Uint8Array | null, shape: MemoryShape, fill: SlotFill, virtual = false): WebAssembly.Memory {
    if (fill === 'copy' && bytes === null) {
      throw new CowpoolError('INVALID_ARGUMENT', `slot ${this.id}: fill 'copy' needs the image's data bytes (an image made with keepBytes)`);
    }
    if (this.state === 'leased' || this.state === 'dirty') {
      throw new CowpoolError('SLOT_STATE', `slot ${this.id} is ${this.state}; only a clean, unknown or cold slot can be acquired`);
    }
    if (this.state === 'unknown' && this.memory !== null) {
      try {
        this.fullReset(this.memory);
      } catch {
        // DESIGN invariant 4: a slot whose full reset fails is retired; the
        // replacement below is a brand-new (all-zero) memory.
        this.retire();
      }
    }
    if (virtual && (fill !== 'map' || shape.initialPages === 0)) {
      throw new CowpoolError('INVALID_ARGUMENT', `slot ${this.id}: a virtual size needs fill 'map' and a memory of at least one page`);
    }
    // A memory a virtually sized tenant grew serves only virtually sized tenants.
    const grown = this.memory !== null && this.memory.buffer.byteLength !== shapeBytes(shape);
    if (this.memory === null || !sameShape(this.shape, shape) || this.fill !== fill || (grown && !virtual)) {
      if (this.memory !== null) this.retire();
      this.replaceMemory(shape, fill);
    }
    const memory = this.memory as WebAssembly.Memory;
    try {
      if (fill === 'map') {
        if (this.mappedImage !== image) this.map(memory, image);
      } else if (bytes !== null && bytes.length > 0) {
        new Uint8Array(memory.buffer, 0, bytes.length).set(bytes);
      }
    } catch (e) {
      if (this.state !== 'retired') this.state = 'unknown';
      throw e;
    }
    this.virtual = virtual;
    this.exposed = false;
    this.tenancy += 1;
    this.state = 'leased';
    return memory;
  }

  /**
   * Takes the slot back from its tenant and resets it with `settings`,
   * counted in its pool's reset state `resets` under `moduleKey`.
   * Entry: leased. Exit: clean, retired (the memory grew) or unknown (reset
   * failed; rethrows).
   */
  release(settings: ResetSettings, resets: PoolResetState, moduleKey: string): void {
    if (this.state !== 'leased') {
      throw new CowpoolError('SLOT_STATE', `slot ${this.id} is ${this.state}; only a leased slot can be released`);
    }
    const memory = this.memory as WebAssembly.Memory;
    const initial = shapeBytes(this.shape as MemoryShape);
    this.dropAlias();
    const virtual = this.virtual;
    this.virtual = false;
    this.exposed = false;
    if (memory.buffer.byteLength !== initial && (!virtual || this.aliasEscaped)) {
      this.retire();
      return;
    }
    this.state = 'dirty';
    try {
      if (memory.buffer.byteLength === 0) {
        // A 0-page memory has no page to reset (and the addon refuses an empty range).
        this.lastResetCopied = 0;
      } else if (this.fill === 'map') {
        // One context per slot, refilled: a reset allocates nothing for it.
        const context = this.#resetContext;
        context.pool = resets;
        context.key = moduleKey;
        this.lastResetCopied = resetV8Memory(memory.buffer, this.mappedImage, settings, context, virtual ? initial : 0);
        context.pool = null as unknown as PoolResetState; // never keeps a closed pool's state alive
        if (memory.buffer.byteLength > initial) this.lastResetCopied += releaseGrownTail(memory.buffer, initial, settings);
      } else {
        new Uint8Array(memory.buffer).fill(0);
        this.lastResetCopied = memory.buffer.byteLength;
      }
    } catch (e) {
      this.state = 'unknown';
      throw e;
    }
    this.state = 'clean';
  }

  /**
   * Drops the memory (V8 frees it when unreachable). Any state; a leased slot
   * only once its tenant is gone (lease reclaimed by GC, or given back to a
   * closed pool), since the tenant may still hold the memory.
   */
  retire(): void {
    if (this.memory !== null) this.retirements += 1;
    this.dropAlias();
    this.aliasEscaped = false;
    this.virtual = false;
    this.memory = null;
    this.shape = null;
    this.mappedImage = null;
    this.mappedLength = 0;
    this.state = 'retired';
  }

  private replaceMemory(shape: MemoryShape, fill: SlotFill): void {
    const descriptor: WebAssembly.MemoryDescriptor = { initial: shape.initialPages };
    if (shape.maximumPages !== null) descriptor.maximum = shape.maximumPages;
    this.memory = new WebAssembly.Memory(descriptor);
    this.shape = shape;
    this.fill = fill;
    this.mappedImage = null;
    this.mappedLength = 0;
    this.resetState.remapped();
    // A brand-new memory is all zeros: nothing to reset.
    this.state = 'clean';
  }

  private map(memory: WebAssembly.Memory, image: NativeImage | null): void {
    const previous = this.mappedLength;
    // Until the call returns we do not know what is mapped where.
    this.mappedImage = null;
    this.mappedLength = previous;
    // New mappings: pages counted before are gone and write tracking must be
    // registered again (the next track-writes reset does it).
    this.resetState.remapped();
    native(() => addon().mapImage(memory.buffer, image, previous));
    this.mappedImage = image;
    this.mappedLength = image === null ? 0 : image.byteLength;
  }

  /** Unknown contents: zero pages over everything, then nothing mapped. */
  private fullReset(memory: WebAssembly.Memory): void {
    const length = memory.buffer.byteLength;
    if (length !== shapeBytes(this.shape as MemoryShape)) {
      this.retire();
      throw new CowpoolError('SLOT_STATE', `slot ${this.id} grew while in an unknown state; it was retired`);
    }
    if (this.fill === 'map' && length > 0) {
      this.resetState.remapped();
      native(() => addon().mapImage(memory.buffer, null, length));
    } else {
      new Uint8Array(memory.buffer).fill(0);
    }
    this.mappedImage = null;
    this.mappedLength = 0;
    this.state = 'clean';
  }
}
