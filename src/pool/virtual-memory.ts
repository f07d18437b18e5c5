/**
 * The memory a tenant with a virtual size sees from JavaScript: the same
 * pages as the slot's WebAssembly.Memory, at the tenant's virtual size.
 *
 *   slot memory  |<-- virtual size (this tenant) -->|<-- PROT_NONE -->|
 *   .buffer      |<------ exactly this long ------->|
 *
 * `lease.memory`, `ctx.memory` and memory exports read through
 * `lease.exports` are this view. Its `buffer` is the memory's own buffer
 * when the physical and virtual sizes agree, else an alias of exactly the
 * virtual size (a JS read past it would fault outside wasm code, which no
 * trap handler catches); `grow(delta)` runs the module's own `$vgrow`, so
 * JS and `memory.grow` see one size. After the tenant leaves the view is
 * dead: `buffer` and `grow` throw LEASE_RELEASED. Handing out the raw
 * instance (`lease.instance`, `ctx.exports`) exposes the tail (`expose`):
 * its raw memory has the physical size, and JS must not meet a closed page.
 *
 * Invariant: `#tenancy` is the slot's tenancy this view was made for; the
 *            view answers only while the slot is leased to that tenancy.
 * Invariant: `#vsize`/`#vgrow` are null until the instance exists: until
 *            then the view has the initial size (a start function that grows
 *            the memory and then calls the host shows the host the initial
 *            size: pointers past it fault, never a read of a closed page).
 */
import { CowpoolError } from '../errors.js';
import type { V8Slot } from '../slots/v8-slot.js';
import type { VirtualSizeLayout } from '../wasm/virtual-size-rewrite.js';

const WASM_PAGE = 65536;

export class VirtualMemory {
  readonly #slot: V8Slot;
  readonly #tenancy: number;
  readonly #layout: VirtualSizeLayout;
  #vsize: WebAssembly.Global | null = null;
  #vgrow: ((delta: number) => number) | null = null;

  constructor(slot: V8Slot, layout: VirtualSizeLayout) {
    this.#slot = slot;
    this.#tenancy = slot.tenancy;
    this.#layout = layout;
  }

  /** Binds the view to the tenant's instance (its size global and `$vgrow`, from its raw exports). */
  instantiated(exports: WebAssembly.Exports): void {
    this.#vsize = exports[this.#layout.vsizeExport] as WebAssembly.Global;
    this.#vgrow = exports[this.#layout.vgrowExport] as (delta: number) => number;
  }

  /** The tenant's virtual size in pages. */
  get pages(): number {
    this.#active('memory.pages');
    return this.#vsize === null ? this.#layout.initialPages : (this.#vsize.value as number) >>> 0;
  }

  get buffer(): ArrayBuffer {
    const pages = this.pages;
    return this.#slot.bufferFor(pages * WASM_PAGE);
  }

  /** `WebAssembly.Memory#grow` at the virtual size: the old size in pages, RangeError past the maximum. */
  grow(delta: number): number {
    this.#active('memory.grow()');
    const pages = Number(delta);
    if (!Number.isInteger(pages) || pages < 0 || pages > 0xffff_ffff) {
      throw new TypeError(`WebAssembly.Memory.grow(): Argument 0 must be convertible to a valid number of pages (got ${String(delta)})`);
    }
    if (this.#vgrow === null) {
      throw new CowpoolError('SLOT_STATE', 'memory.grow(): the instance is still being created; grow from wasm (memory.grow) during start');
    }
    const old = this.#vgrow(pages | 0);
    if (old === -1) throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    return old >>> 0;
  }

  /**
   * The raw instance is going to JavaScript (`lease.instance`, `ctx.exports`):
   * open the pages past the virtual size (zeros) so a JS read through the raw
   * memory cannot fault the process (see V8Slot.exposeTail).
   */
  expose(what: string): void {
    this.#active(what);
    this.#slot.exposeTail();
  }

  #active(what: string): void {
    if (this.#slot.state !== 'leased' || this.#slot.tenancy !== this.#tenancy) {
      throw new CowpoolError('LEASE_RELEASED', `${what}: the lease this memory belonged to was released; its slot serves another tenant now`);
    }
  }
}

// `view instanceof WebAssembly.Memory` holds, so glue that checks the type accepts it.
Object.setPrototypeOf(VirtualMemory.prototype, WebAssembly.Memory.prototype);
