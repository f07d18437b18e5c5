/**
 * A module made ready for the pool: the layout (rewrite and summaries), the
 * image, the compiled module, and how the pool will serve it.
 *
 * The layout's image bytes are not kept: once written into the image's memfd
 * they live in the JS heap only where the copy strategy reads them
 * (`image.bytes`); `image.dataLength` tells their length.
 */
import { CowpoolError } from '../errors.js';
import { GROWTH_MODES, type PoolConfig, type Strategy } from '../config/pool-config-schema.js';
import { prepareLayout } from '../wasm/prepare-layout.js';
import type { FallbackReason, PreparedLayout } from '../wasm/prepared-layout.js';
import { WASM_PAGE, type MemoryShape } from '../slots/memory-shape.js';
import { PoolImage } from './pool-image.js';
import type { ResetSettings } from '../slots/memory-reset.js';
import { parseConfig } from '../config/load-config.js';
import type { HostFactory } from './host-context.js';
import { reuseRefusals, type ReuseRefusal } from '../wasm/reuse-eligibility.js';
import type { InitializeOptions } from '../snapshot/initialize-options.js';
import type { SnapshotReport } from '../snapshot/snapshot-report.js';
import { takeSnapshot } from '../snapshot/take-snapshot.js';

/**
 * Why a module is served by plain V8 instantiation: a reason from the module
 * and the image limit (see FallbackReason), or one from the pool's limits:
 * - `memory-over-limit`: the initial memory is larger than `limits.maxMemoryBytesPerSlot`.
 */
export type PoolFallbackReason = FallbackReason | 'memory-over-limit';

let nextId = 1;

export class PreparedModule {
  /** Unique per prepare() call. */
  readonly id: number = nextId++;

  constructor(
    /** The compiled module the pool instantiates (rewritten when pooled). */
    readonly module: WebAssembly.Module,
    /** The layout without its image bytes (see `image`). */
    readonly layout: Omit<PreparedLayout, 'image'>,
    /** True when instances get a pooled memory (strategies copy, cow, reuse). */
    readonly pooled: boolean,
    /** Non-null when served by plain V8 instantiation though the strategy pools. */
    readonly fallbackReason: PoolFallbackReason | null,
    readonly fallbackDetail: string | null,
    readonly image: PoolImage,
    /** The pooled memory's limits; null when not pooled. */
    readonly shape: MemoryShape | null,
    readonly strategy: Strategy,
    readonly name: string,
    /** How this module's slots are reset: the pool's `reset` config with the module's override applied. */
    readonly resetSettings: ResetSettings,
    /** Host bindings made once per slot (`prepare(bytes, { host })`); null when the tenant passes imports. */
    readonly host: HostFactory | null = null,
    /**
     * Under `reuse`: why the rewind cannot make an instance fresh (see
     * reuse-eligibility.ts); the instance is then dropped on every release,
     * as under `cow`. Empty when the module is eligible or not served by reuse.
     */
    readonly reuseRefusals: readonly ReuseRefusal[] = [],
  ) {}

  /** True when `reuse` keeps this module's instance across tenants. */
  get reusable(): boolean {
    return this.pooled && this.strategy === 'reuse' && this.reuseRefusals.length === 0;
  }

  /**
   * What a tenant that grows the memory costs: `virtual` (the slot goes back
   * to the initial size and stays pooled) or `retire` (the memory is
   * replaced), and why a requested virtual size does not apply.
   */
  get growth(): { mode: 'virtual' | 'retire'; reason: string | null } {
    if (this.pooled && this.layout.virtualSize !== null) return { mode: 'virtual', reason: null };
    return { mode: 'retire', reason: this.layout.virtualSizeRefusal };
  }

  /** True when the memory is a copy-on-write view of the image. */
  get cow(): boolean {
    return this.pooled && (this.strategy === 'cow' || this.strategy === 'reuse');
  }

  /** The import the pool fills with its memory; null when not pooled. */
  get memoryImport(): { module: string; name: string } | null {
    return this.pooled ? this.layout.memoryImport : null;
  }

  /**
   * Slot affinity key: same image and same memory limits share warm slots
   * (computed once: it is read on every acquire and release).
   */
  get slotKey(): string {
    if (this.#slotKey === undefined) {
      const shape = this.shape as MemoryShape;
      this.#slotKey = `${this.image.key}/${shape.initialPages}/${shape.maximumPages ?? 'none'}/${this.strategy === 'copy' ? 'copy' : 'map'}`;
    }
    return this.#slotKey;
  }

  #slotKey: string | undefined;

  /** What the `initialize.run` initializer returned (cloned); undefined without one. */
  initialized: unknown = undefined;
  /** What the snapshot captured, when prepared with `initialize`; null otherwise. */
  snapshot: SnapshotReport | null = null;
}

export interface PrepareOptions {
  /** A name for stats and errors (a file name, a package name). */
  name?: string;
  /**
   * Reset settings for this module only, over the pool's `reset` config:
   * e.g. `{ mode: 'restore-dirty' }` for a module whose tenants rewrite the
   * same few pages.
   */
  reset?: Partial<Pick<ResetSettings, 'mode' | 'keepResidentBytes' | 'maxResidentBytes' | 'trimEvery'>>;
  /**
   * Host bindings made once per slot: called with a `ctx` that points at
   * whichever tenant is calling, it returns the imports every tenant of the
   * slot is linked to. `instantiate(prepared, { data })` then takes
   * per-request data instead of imports.
   */
  host?: HostFactory<any>;
  /**
   * Snapshot the instance after its start function and this initializer ran;
   * every tenant starts in exactly that state (see src/snapshot).
   */
  initialize?: InitializeOptions;
  /**
   * What a tenant that grows its memory costs its slot. `'virtual'`: the
   * module keeps its memory size in a global of its own (memory.size and
   * memory.grow rewritten), so the slot goes back to the initial size on
   * release — the grown pages zeroed and left inaccessible (PROT_NONE) —
   * and stays pooled. `'retire'`: a memory that grew is retired and
   * replaced. Default: `'virtual'` for a module prepared with `host` and for
   * a WASI module (all its function imports from `wasi_snapshot_preview1`):
   * JS reaches their memory through `ctx.memory` / `lease.memory`, which
   * see the virtual size. Else `'retire'`: glue (Emscripten) grows the raw
   * instance's memory itself, which would disagree with the module's
   * virtual size. (Handing out the raw instance opens the pages past the
   * virtual size, zeros, for that tenancy.) `'auto'` (the pool's `growth` config,
   * default) applies that rule. Only the cow and reuse strategies apply it; a module whose
   * memory cannot grow, starts empty, or holds instructions the rewrite does
   * not decode (atomics, GC) retires, and `prepared.growth` says why.
   */
  growth?: 'auto' | 'virtual' | 'retire';
}

/** Parses, rewrites and compiles `bytes` for a pool configured by `config`. */
export async function prepareModule(
  bytes: Uint8Array | ArrayBuffer,
  config: PoolConfig,
  options: PrepareOptions = {},
): Promise<PreparedModule> {
  // Any view is read as the bytes it covers (a DataView or a subarray at an
  // offset too); anything else is a caller's mistake, not malformed wasm.
  const given: unknown = bytes;
  let input = given instanceof Uint8Array
    ? given
    : given instanceof ArrayBuffer
      ? new Uint8Array(given)
      : ArrayBuffer.isView(given)
        ? new Uint8Array(given.buffer, given.byteOffset, given.byteLength)
        : null;
  if (input === null) {
    throw new CowpoolError(
      'INVALID_ARGUMENT',
      `prepare(bytes): bytes must be a Uint8Array, Buffer, ArrayBuffer or other ArrayBuffer view holding a .wasm binary (got ${given === null ? 'null' : typeof given})`,
    );
  }
  const name = options.name ?? 'module';
  if (options.host !== undefined && typeof options.host !== 'function') {
    throw new CowpoolError('INVALID_ARGUMENT', `prepare(${name}) options.host must be a function (ctx) => imports, got ${typeof options.host}`);
  }
  // The override goes through the same schema as the pool's config, so a bad
  // value is reported with its field and fix.
  const resetSettings: ResetSettings = options.reset === undefined
    ? config.reset
    : parseConfig({ ...config, reset: { ...config.reset, ...options.reset } }, `prepare(${name}) options`).reset;
  const strategy = config.strategy;
  const snapshot = options.initialize === undefined ? null : await takeSnapshot(input, options.initialize, name);
  if (snapshot !== null) input = snapshot.bytes;
  if (options.growth !== undefined && !GROWTH_MODES.includes(options.growth)) {
    throw new CowpoolError('INVALID_ARGUMENT', `prepare(${name}) options.growth must be 'auto', 'virtual' or 'retire', got ${JSON.stringify(options.growth)}`);
  }
  const requested = options.growth ?? config.growth;
  const growth = requested !== 'auto' ? requested : options.host !== undefined ? 'virtual' : 'wasi';
  const layout = prepareLayout(input, {
    exportInternals: strategy === 'reuse',
    maxImageBytes: config.limits.maxImageBytes,
    virtualSize: strategy !== 'cow' && strategy !== 'reuse' ? false : growth === 'wasi' ? 'wasi' : growth === 'virtual',
  });

  let fallbackReason: PoolFallbackReason | null = layout.fallbackReason;
  let fallbackDetail: string | null = layout.fallbackDetail;
  let shape: MemoryShape | null = null;
  if (layout.cow && layout.memory !== null) {
    const limitPages = Math.floor(config.limits.maxMemoryBytesPerSlot / WASM_PAGE);
    if (layout.memory.initialPages > limitPages) {
      fallbackReason = 'memory-over-limit';
      fallbackDetail = `the initial memory is ${layout.memory.initialPages * WASM_PAGE} bytes, above limits.maxMemoryBytesPerSlot (${config.limits.maxMemoryBytesPerSlot})`;
    } else {
      const declared = layout.memory.maximumPages;
      // A smaller maximum than declared is allowed by import matching; it
      // makes memory.grow fail (return -1) at the pool's limit.
      shape = { initialPages: layout.memory.initialPages, maximumPages: declared === null ? limitPages : Math.min(declared, limitPages) };
    }
  }
  const pooled = strategy !== 'fresh' && shape !== null;
  // The fresh strategy and every fallback compile the original bytes.
  const moduleBytes = pooled ? layout.bytes : input;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(moduleBytes);
  } catch (cause) {
    throw new CowpoolError('INVALID_WASM', `${name}: V8 rejected the module: ${(cause as Error).message}`, { cause });
  }
  // Copy-on-write slots map a file as long as the initial memory (holes past
  // the data); the copy strategy only ever uses the data bytes.
  const mapped = pooled && strategy !== 'copy';
  const image = PoolImage.create(pooled ? layout.image : new Uint8Array(0), mapped ? (shape as MemoryShape).initialPages * WASM_PAGE : 0, {
    keepBytes: pooled && strategy === 'copy',
  });
  const refusals = pooled && strategy === 'reuse' ? reuseRefusals(input, layout.image) : [];
  // The image bytes are in the memfd now (and in `image.bytes` under copy):
  // the prepared module keeps no other reference to them.
  const { image: _imageBytes, ...kept } = layout;
  const prepared = new PreparedModule(
    module,
    kept,
    pooled,
    // Under the fresh strategy nothing is a fallback: plain V8 is the choice.
    pooled || strategy === 'fresh' ? null : fallbackReason,
    pooled || strategy === 'fresh' ? null : fallbackDetail,
    image,
    pooled ? shape : null,
    strategy,
    name,
    resetSettings,
    options.host ?? null,
    refusals,
  );
  if (snapshot !== null) {
    prepared.initialized = snapshot.initialized;
    prepared.snapshot = snapshot.report;
  }
  return prepared;
}
