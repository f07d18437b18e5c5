/**
 * The instance pool: fresh WebAssembly instances whose memories come from
 * pooled slots, with the strategy chosen in the configuration.
 *
 *   prepare(bytes) ──► PreparedModule ──instantiate(imports)──► Lease ──release()──► slot reset, warm
 *
 * Strategies (one interface; DESIGN "Strategies the bench compares"):
 * - fresh: plain `new WebAssembly.Instance` of the original module.
 * - copy:  pooled memory, image copied in, zeroed on release.
 * - cow:   pooled memory, image mapped copy-on-write, reset by the addon.
 * - reuse: the cow slot keeps its instance; release rewinds memory, globals
 *          and tables. Only for modules whose rewind is exact (reuseRefusals);
 *          the others get a new instance per tenant. See SECURITY.md.
 *
 * Invariant: `#slots[i]` exists for every index the allocator has handed out.
 * Invariant: a slot index is used by the allocator iff its V8Slot is leased
 *            (or being acquired/reset inside one synchronous call).
 * Invariant: `#kept` (reuse, see kept-instances.ts) holds for slot i only an
 *            instance whose memory is `#slots[i].memory`.
 * Invariant: every pooled reservation not yet used or cancelled, and every
 *            lease not yet released, is registered in `#registry`, so a slot
 *            whose holder is garbage-collected is retired, never leaked or reused.
 *            A lease is registered with its slot's index (-1: plain) and its
 *            backing as the unregister token (see TenantBacking); a pooled
 *            one only when the job that made it ends unreleased, and until
 *            then its backing holds it (`unregistered`), so it cannot be
 *            collected unregistered.
 * Invariant: `#backings[i]`, when set, is slot i's TenantBacking: the current
 *            tenant's while slot i is leased, no lease's while it is idle.
 * Invariant: every instance is linked through guardImports, so no slot is
 *            given back while its instance runs (see instance-calls.ts).
 *            Instances of one slot on one memory share an InstanceCalls
 *            (`#links[i].calls`; a kept instance's calls for reuse are the same).
 * Invariant: `#links[i]`, when set, is slot i's last linking: imports guarded
 *            for `memory` from `values`. It holds the last tenant's import
 *            values while the slot is idle, and is dropped with the memory.
 * Invariant: `#resets` is this pool's reset state (counters, each module's
 *            auto policy), used by no other pool; closed with the pool.
 */
import { CowpoolError } from '../errors.js';
import { parseConfig } from '../config/load-config.js';
import type { PoolConfig, PoolConfigInput } from '../config/pool-config-schema.js';
import { createAutoResetPolicy } from '../policy/auto-reset-policy.js';
import { IndexAllocator } from '../policy/index-allocator.js';
import { PoolResetState, startResetCalibration, type ResetModeCounters } from '../slots/memory-reset.js';
import { SLOT_STATES, type SlotState } from '../slots/slot-state.js';
import { V8Slot } from '../slots/v8-slot.js';
import { residentPrivateBytesOf, type MemoryCounters } from './memory-counters.js';
import { guardImports, importValues, InstanceCalls, relinkImports, sameValues } from './instance-calls.js';
import { KeptInstances } from './kept-instances.js';
import { HostBinding, type HostFactory, type InstantiateOptions } from './host-context.js';
import { SlotHostBindings } from './slot-host-bindings.js';
import { installedWasiRunner } from './wasi-runner.js';
import type { RunWasiOptions } from '../host/run-wasi.js';
import type { WasiResult } from '../host/wasi-run.js';
import type { ReuseRefusal } from '../wasm/reuse-eligibility.js';
import { Lease, type LeaseBacking } from './lease.js';
import { VirtualMemory } from './virtual-memory.js';
import { nativeImageOf, releaseImage } from './pool-image.js';
import { prepareModule, PreparedModule, type PoolFallbackReason, type PrepareOptions } from './prepared-module.js';
import { acquireWithin, SlotWaiters } from './slot-waiters.js';

export type Imports = WebAssembly.Imports;

/** A slot taken for a module whose instance is not created yet (see `reserve`). */
export interface Reservation {
  /** The memory the instance will get (null when the module is not pooled). Glue may build views on it now. */
  readonly memory: WebAssembly.Memory | null;
  /** Creates the instance in the reserved slot. Once only. (`{ data }` for a module prepared with `host`.) */
  instantiate(imports?: Imports | InstantiateOptions): Lease;
  /** Gives the slot back without instantiating. */
  cancel(): void;
}

/** `Module.instantiateWasm` for Emscripten glue, serving one instance. */
export interface EmscriptenHook {
  (imports: Imports, receiveInstance: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void): WebAssembly.Exports;
  /** For glue that imports its memory: pass as `Module.wasmMemory` (reserves the slot). */
  readonly wasmMemory: WebAssembly.Memory | undefined;
  /** The lease once instantiated. */
  readonly lease: Lease | null;
}

export interface PoolStats {
  strategy: PoolConfig['strategy'];
  slots: { total: number; limit: number; byState: Record<SlotState, number> };
  /**
   * `reclaimed`: leases (and reservations never used) that were
   * garbage-collected without release(); their memories were dropped.
   */
  leases: { active: number; acquired: number; released: number; reclaimed: number };
  affinity: { hits: number; cold: number; evicted: number };
  fallbacks: Partial<Record<PoolFallbackReason, number>>;
  retired: number;
  resetFailures: number;
  /** Memory the resets did: bytes copied back (image or zeros) in total, and private bytes idle slots keep resident now. */
  memory: MemoryCounters;
  exhausted: number;
  /** This pool's reset counters, keyed by the mode that actually ran. */
  reset: Record<string, ResetModeCounters>;
  /** Each prepared module: how it is served and, once its slots were reset, the reset mode it asked for and the one that runs. */
  modules: ModuleStats[];
}

export interface ModuleStats {
  name: string;
  pooled: boolean;
  fallbackReason: PoolFallbackReason | null;
  resetMode: { requested: string; active: string; resets: number } | null;
  /** Under `reuse`: whether instances are kept across tenants, and every reason they are not. Null under other strategies. */
  reuse: { eligible: boolean; refusals: ReuseRefusal[] } | null;
}

/**
 * What the registry holds for an unreleased holder: a lease's slot index (-1
 * for a plain instance's lease), or a reservation's token. A lease counts as
 * active until released or reclaimed; a reservation does not.
 */
type ReclaimToken = number | { slot: number; kind: 'reservation' };

/**
 * What a lease is backed by. A pooled slot has one, filled for each tenant in
 * turn, so the hot path makes no backing, closure or reclaim token per lease;
 * a plain instance's lease has its own. It is also the lease's unregister
 * token in the registry: a lease is unregistered as its slot is given back,
 * before the backing serves the next tenant (a lease released in the job
 * that made it was never registered).
 *
 *   slot i ──► TenantBacking { prepared, instance, memory, calls, binding } ◄── #backing of the one active lease
 *
 * Invariant: while a lease holds it, its fields are that lease's tenancy
 *            (a released lease has let go of it before they are written again).
 * Invariant: `binding` is null except while a tenant of a module prepared
 *            with `host` holds it.
 * Invariant: `unregistered` is the active lease when it is not registered
 *            yet, else null; `queued` iff the backing is in the pool's queue
 *            of backings to register (at most once).
 */
class TenantBacking implements LeaseBacking {
  prepared!: PreparedModule;
  instance!: WebAssembly.Instance;
  memory: WebAssembly.Memory | null = null;
  calls!: InstanceCalls;
  binding: HostBinding | null = null;
  /** The active lease while it is not registered yet (see InstancePool#lease); null otherwise. */
  unregistered: Lease | null = null;
  /** In the pool's queue of backings whose lease registers at the end of the job. */
  queued = false;

  constructor(
    private readonly giveBackTo: (backing: TenantBacking) => void,
    /** The pooled slot, or null for a plain instance. */
    readonly slot: V8Slot | null,
  ) {}

  giveBack(): void {
    this.giveBackTo(this);
  }
}

/**
 * A slot's last linking. A tenant passing the same import values for the same
 * memory gets the same guarded imports: no wrapper is made on the hot path of
 * a host that links the same functions every time.
 */
interface SlotLink {
  prepared: PreparedModule;
  memory: WebAssembly.Memory;
  values: unknown[];
  imports: Imports;
  calls: InstanceCalls;
}

/**
 * The reset state of `pool`, for the bench and tests (the auto policy of a
 * module: `poolResetState(pool).policyOf(prepared.slotKey)`). Not exported
 * from the package.
 */
export let poolResetState: (pool: InstancePool) => PoolResetState;

export class InstancePool {
  readonly config: PoolConfig;
  readonly #allocator: IndexAllocator;
  readonly #slots: V8Slot[] = [];
  readonly #kept = new KeptInstances();
  readonly #links: (SlotLink | undefined)[] = [];
  readonly #backings: (TenantBacking | undefined)[] = [];
  /** Backings whose lease registers for reclaim when the job ends; `#registering` while that is scheduled. */
  readonly #unregistered: TenantBacking[] = [];
  #registering = false;
  readonly #hosts = new SlotHostBindings();
  readonly #waiters = new SlotWaiters();
  readonly #registry = new FinalizationRegistry<ReclaimToken>((token) => this.#reclaim(token));
  readonly #prepared = new Set<PreparedModule>();
  readonly #resets = new PoolResetState(createAutoResetPolicy);
  #closed = false;
  readonly #counters = {
    active: 0, acquired: 0, released: 0, reclaimed: 0,
    hits: 0, cold: 0, evicted: 0, resetFailures: 0, exhausted: 0, bytesRestored: 0,
  };
  readonly #fallbacks: Partial<Record<PoolFallbackReason, number>> = {};

  constructor(config: PoolConfigInput | PoolConfig = {}) {
    this.config = parseConfig(config);
    const { limits } = this.config;
    this.#allocator = new IndexAllocator({
      maxSlots: limits.maxSlots,
      maxUnusedWarmSlots: limits.maxUnusedWarmSlots,
      maxSlotsPerKey: limits.maxSlotsPerImage,
    });
  }

  /** Parses, rewrites and compiles a module for this pool. */
  async prepare(bytes: Uint8Array | ArrayBuffer, options: PrepareOptions = {}): Promise<PreparedModule> {
    this.#assertOpen('prepare()');
    // auto's fault prices: measured once per process on another thread, while the module compiles.
    const calibrated = this.config.strategy === 'cow' || this.config.strategy === 'reuse' ? startResetCalibration() : undefined;
    const prepared = await prepareModule(bytes, this.config, options);
    await calibrated;
    this.#prepared.add(prepared);
    return prepared;
  }

  /**
   * A fresh instance of `prepared`, synchronously. Throws POOL_EXHAUSTED when
   * no slot is free. For a module prepared with `host`, the second argument
   * is `{ data }` (the slot's host bindings are the imports). `E` types
   * `lease.exports`.
   */
  instantiate<E extends object = Record<string, unknown>>(prepared: PreparedModule, imports?: Imports): Lease<E>;
  instantiate<E extends object = Record<string, unknown>>(prepared: PreparedModule, options: InstantiateOptions): Lease<E>;
  instantiate<E extends object = Record<string, unknown>>(prepared: PreparedModule, importsOrOptions?: Imports | InstantiateOptions): Lease<E>;
  instantiate<E extends object = Record<string, unknown>>(prepared: PreparedModule, imports: Imports | InstantiateOptions = {}): Lease<E> {
    this.#assertOpen('instantiate()');
    this.#assertOwn(prepared);
    if (!prepared.pooled) return this.#plainReservation(prepared).instantiate(imports) as Lease<E>;
    // The hot path: no Reservation object, nothing registered for reclaim
    // until the lease exists.
    const slot = this.#tryAcquireSlot(prepared);
    if (slot === null) throw this.#exhaustedError(prepared);
    return this.#leaseInSlot(prepared, slot, imports) as Lease<E>;
  }

  /**
   * Runs a WASI command (`_start`) on a fresh tenant of `prepared` and
   * returns its exit code and output. The WASI host's functions are made once
   * per slot (host bindings), so under `reuse` a slot keeps its instance
   * across runs. The host is reached through an installed runner (see
   * wasi-runner.ts): the pool does not load src/host itself.
   */
  runWasi(prepared: PreparedModule, options: RunWasiOptions = {}): WasiResult {
    this.#assertOpen('runWasi()');
    this.#assertOwn(prepared);
    const wasi = installedWasiRunner();
    return wasi.run((data) => this.#instantiateWith(prepared, prepared.host ?? wasi.host, data), prepared, options);
  }

  /** instantiate() of a tenant linked to the host bindings `factory` makes, with `data`. */
  #instantiateWith(prepared: PreparedModule, factory: HostFactory, data: unknown): Lease {
    if (!prepared.pooled) return this.#plainReservation(prepared, factory).instantiate({ data });
    const slot = this.#tryAcquireSlot(prepared);
    if (slot === null) throw this.#exhaustedError(prepared);
    return this.#leaseInSlot(prepared, slot, { data }, factory);
  }

  /** Like instantiate, but waits for a slot when the policy is `wait`. */
  async instantiateAsync<E extends object = Record<string, unknown>>(prepared: PreparedModule, imports: Imports | InstantiateOptions = {}): Promise<Lease<E>> {
    return (await this.reserveAsync(prepared)).instantiate(imports) as Lease<E>;
  }

  /** Takes a slot for `prepared` and exposes its memory before the instance exists. */
  reserve(prepared: PreparedModule): Reservation {
    this.#assertOpen('reserve()');
    this.#assertOwn(prepared);
    if (!prepared.pooled) return this.#plainReservation(prepared);
    const slot = this.#tryAcquireSlot(prepared);
    if (slot === null) throw this.#exhaustedError(prepared);
    return this.#pooledReservation(prepared, slot);
  }

  async reserveAsync(prepared: PreparedModule): Promise<Reservation> {
    this.#assertOpen('reserveAsync()');
    this.#assertOwn(prepared);
    if (!prepared.pooled) return this.#plainReservation(prepared);
    const { exhausted } = this.config;
    const timeout = exhausted.policy === 'wait' ? exhausted.timeoutMs : 0;
    const slot = await acquireWithin(() => this.#tryAcquireSlot(prepared), this.#waiters, timeout, () => this.#exhaustedError(prepared).message);
    return this.#pooledReservation(prepared, slot);
  }

  /**
   * A function to pass as Emscripten's `Module.instantiateWasm`, so glue such
   * as sql.js instantiates from this pool unchanged. One hook serves one
   * instance; `onLease` receives its lease (release it when done).
   */
  emscriptenHook(prepared: PreparedModule, onLease?: (lease: Lease) => void): EmscriptenHook {
    let reservation: Reservation | null = null;
    let lease: Lease | null = null;
    if (prepared.host !== null) throw new CowpoolError('INVALID_ARGUMENT', `emscriptenHook: ${prepared.name} was prepared with host bindings; glue brings its own imports, so prepare it without \`host\``);
    if (prepared.layout.virtualSize !== null) {
      throw new CowpoolError('INVALID_ARGUMENT', `emscriptenHook: ${prepared.name} was prepared with growth 'virtual'; glue reads the raw instance's memory, so prepare it with growth 'retire'`);
    }
    const hook = ((imports: Imports, receiveInstance: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void) => {
      if (lease !== null) {
        throw new CowpoolError('INVALID_ARGUMENT', 'emscriptenHook: this hook already served an instance; make one hook per instance');
      }
      reservation ??= this.reserve(prepared);
      lease = reservation.instantiate(imports);
      onLease?.(lease);
      receiveInstance(lease.instance, prepared.module);
      return lease.instance.exports;
    }) as EmscriptenHook;
    Object.defineProperty(hook, 'wasmMemory', {
      get: () => (reservation ??= this.reserve(prepared)).memory ?? undefined,
    });
    Object.defineProperty(hook, 'lease', { get: () => lease });
    return hook;
  }

  stats(): PoolStats {
    const byState = Object.fromEntries(SLOT_STATES.map((s) => [s, 0])) as Record<SlotState, number>;
    for (const slot of this.#slots) byState[slot.state] += 1;
    byState.cold += this.config.limits.maxSlots - this.#slots.length;
    const c = this.#counters;
    return {
      strategy: this.config.strategy,
      slots: { total: this.#slots.filter((s) => s.memory !== null).length, limit: this.config.limits.maxSlots, byState },
      leases: { active: c.active, acquired: c.acquired, released: c.released, reclaimed: c.reclaimed },
      affinity: { hits: c.hits, cold: c.cold, evicted: c.evicted },
      fallbacks: { ...this.#fallbacks },
      retired: this.#slots.reduce((sum, slot) => sum + slot.retirements, 0),
      resetFailures: c.resetFailures,
      exhausted: c.exhausted,
      memory: { bytesRestored: c.bytesRestored, residentPrivateBytes: residentPrivateBytesOf(this.#slots) },
      reset: this.#resets.statistics(),
      modules: this.#moduleStats(),
    };
  }

  /**
   * Stops serving: waiters fail with POOL_CLOSED, idle memories are dropped,
   * images released. Leases still out stay usable until released; their slots
   * are then dropped instead of reused. Allowed from inside a call (an
   * import): it gives back no leased slot, so the running instance keeps its
   * memory until its lease is released after the call.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.rejectAll(new CowpoolError('POOL_CLOSED', 'the pool was closed while waiting for a slot'));
    for (const slot of this.#slots) if (slot.state !== 'leased') slot.retire();
    this.#kept.clear();
    this.#links.length = 0;
    this.#hosts.clear();
    for (const prepared of this.#prepared) releaseImage(prepared.image);
    this.#prepared.clear();
    this.#resets.close();
  }

  #moduleStats(): ModuleStats[] {
    return [...this.#prepared].map((p) => {
      const reset = p.pooled ? this.#resets.module(p.slotKey) : undefined;
      return {
        name: p.name,
        pooled: p.pooled,
        fallbackReason: p.fallbackReason,
        resetMode: reset === undefined ? null : { requested: reset.requested, active: reset.active, resets: reset.resets },
        reuse: p.pooled && p.strategy === 'reuse' ? { eligible: p.reusable, refusals: [...p.reuseRefusals] } : null,
      };
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  static {
    poolResetState = (pool) => pool.#resets;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new CowpoolError('POOL_CLOSED', `${what}: the pool is closed; create a new one`);
  }

  #assertOwn(prepared: PreparedModule): void {
    if (!(prepared instanceof PreparedModule) || !this.#prepared.has(prepared)) {
      throw new CowpoolError('WRONG_OWNER', 'the module was not prepared by this pool (or the pool was closed); call pool.prepare(bytes) first');
    }
  }

  #exhaustedError(prepared: PreparedModule): CowpoolError {
    this.#counters.exhausted += 1;
    const reason = this.#allocator.exhaustedReason(prepared.slotKey);
    const limits = this.config.limits;
    const why = reason === 'key-limit'
      ? `${prepared.name} already holds limits.maxSlotsPerImage (${limits.maxSlotsPerImage}) slots`
      : `all limits.maxSlots (${limits.maxSlots}) slots are leased`;
    return new CowpoolError('POOL_EXHAUSTED', `no slot for ${prepared.name}: ${why}; release leases, raise the limit, or use exhausted.policy "wait"`);
  }

  /** A leased V8Slot for `prepared`, or null when the allocator has none. */
  #tryAcquireSlot(prepared: PreparedModule): V8Slot | null {
    const allocator = this.#allocator;
    const index = allocator.allocSlot(prepared.slotKey);
    if (index < 0) return null;
    const c = this.#counters;
    const kind = allocator.lastKind;
    if (kind === 'affine') c.hits += 1;
    else if (kind === 'cold') c.cold += 1;
    else c.evicted += 1;
    const slot = (this.#slots[index] ??= new V8Slot(index));
    this.#kept.forOtherModule(slot.id, prepared);
    try {
      slot.acquire(nativeImageOf(prepared.image), prepared.image.bytes, prepared.shape!, prepared.strategy === 'copy' ? 'copy' : 'map', prepared.layout.virtualSize !== null);
    } catch (e) {
      this.#kept.drop(slot.id);
      this.#allocator.free(slot.id, null);
      throw e;
    }
    return slot;
  }

  #plainReservation(prepared: PreparedModule, factory: HostFactory | null = prepared.host): Reservation {
    let done = false;
    if (prepared.fallbackReason !== null) {
      this.#fallbacks[prepared.fallbackReason] = (this.#fallbacks[prepared.fallbackReason] ?? 0) + 1;
    }
    return {
      memory: null,
      instantiate: (given: Imports | InstantiateOptions = {}) => {
        if (done) throw new CowpoolError('INVALID_ARGUMENT', 'reservation.instantiate(): this reservation was already used or cancelled; take a new one with pool.reserve(prepared)');
        done = true;
        this.#assertOpen('reservation.instantiate()');
        // A plain instance gets its own host binding (no slot to keep it for).
        const binding = factory === null ? null : new HostBinding(factory, prepared.name);
        const imports = binding === null ? (given as Imports) : binding.imports;
        binding?.attach(null, (given as InstantiateOptions).data, null);
        // Guarded like a pooled one, so release() from inside a call fails the same way under every strategy.
        const backing = new TenantBacking(this.#giveBackLease, null);
        backing.calls = new InstanceCalls();
        try {
          backing.instance = new WebAssembly.Instance(prepared.module, guardImports(prepared, imports, importValues(prepared, imports), backing.calls, null));
        } catch (e) {
          binding?.detach();
          throw e;
        }
        backing.memory = plainMemory(prepared, backing.instance, imports);
        binding?.instantiated(backing.memory, backing.instance.exports);
        backing.prepared = prepared;
        backing.binding = binding;
        return this.#lease(backing);
      },
      cancel: () => {
        done = true;
      },
    };
  }

  #pooledReservation(prepared: PreparedModule, slot: V8Slot): Reservation {
    let done = false;
    const virtual = prepared.layout.virtualSize;
    // A virtually sized module's memory is seen through a view (its pages past the initial size may be PROT_NONE).
    const memory = virtual === null ? (slot.memory as WebAssembly.Memory) : (new VirtualMemory(slot, virtual) as unknown as WebAssembly.Memory);
    const token = { slot: slot.id, kind: 'reservation' } as const;
    const reservation: Reservation = {
      memory,
      instantiate: (imports: Imports | InstantiateOptions = {}) => {
        if (done) throw new CowpoolError('INVALID_ARGUMENT', 'reservation.instantiate(): this reservation was already used or cancelled; take a new one with pool.reserve(prepared)');
        done = true;
        this.#registry.unregister(token);
        const lease = this.#leaseInSlot(prepared, slot, imports);
        // The reservation's view follows the tenant's size from now on, as the lease's does.
        if (memory instanceof VirtualMemory) memory.instantiated(lease.rawExports);
        return lease;
      },
      cancel: () => {
        if (done) return;
        done = true;
        this.#registry.unregister(token);
        this.#giveBack(slot, prepared);
      },
    };
    // A reservation dropped unused (glue that read `wasmMemory` and failed)
    // would otherwise hold its slot forever.
    this.#registry.register(reservation, token, token);
    return reservation;
  }

  /** Instantiates in an acquired slot; on failure the slot goes back to the pool. */
  #leaseInSlot(prepared: PreparedModule, slot: V8Slot, given: Imports | InstantiateOptions, factory: HostFactory | null = prepared.host): Lease {
    const memory = slot.memory as WebAssembly.Memory;
    // A module with a virtual size: JS sees the memory at the tenant's size (src/pool/virtual-memory.ts).
    const virtual = prepared.layout.virtualSize;
    const view = virtual === null ? null : new VirtualMemory(slot, virtual);
    const seen = view === null ? memory : (view as unknown as WebAssembly.Memory);
    // No lease holds it: the slot was idle until this call acquired it.
    const backing = (this.#backings[slot.id] ??= new TenantBacking(this.#giveBackLease, slot));
    let binding: HostBinding | null = null;
    try {
      this.#assertOpen('instantiate()');
      // A module prepared with `host`: the slot's bindings are the imports, pointed at this tenant (its start function included).
      binding = factory === null ? null : this.#hosts.forSlot(slot.id, prepared, factory);
      binding?.attach(seen, (given as InstantiateOptions).data, null);
      this.#instanceIn(prepared, slot, memory, binding === null ? (given as Imports) : binding.imports, backing);
      view?.instantiated(backing.instance.exports);
      binding?.instantiated(seen, backing.instance.exports);
    } catch (e) {
      // Nothing of the instance runs any more (a start function that threw has unwound).
      binding?.detach();
      this.#giveBack(slot, prepared);
      throw e;
    }
    backing.prepared = prepared;
    backing.memory = seen;
    backing.binding = binding;
    return this.#lease(backing);
  }

  /** Puts in `backing` slot `slot`'s instance for this tenant (kept under reuse, else new) and its calls. */
  #instanceIn(prepared: PreparedModule, slot: V8Slot, memory: WebAssembly.Memory, imports: Imports, backing: TenantBacking): void {
    const last = this.#links[slot.id];
    const values = importValues(prepared, imports, last !== undefined && last.prepared === prepared && last.memory === memory ? last.values : undefined);
    if (prepared.strategy === 'reuse') {
      const kept = this.#kept.reusable(slot.id, prepared, memory, values);
      if (kept !== undefined) {
        backing.instance = kept.instance;
        backing.calls = kept.calls;
        return;
      }
    }
    const link = this.#link(prepared, slot, memory, imports, values);
    const instance = new WebAssembly.Instance(prepared.module, link.imports);
    // A module the rewind cannot make fresh (reuseRefusals) gets a new instance every time.
    if (prepared.reusable) {
      this.#kept.keep(slot.id, prepared, instance, memory, values, link.calls);
    }
    backing.instance = instance;
    backing.calls = link.calls;
  }

  /**
   * Slot `slot`'s guarded imports for `values`: the last ones when nothing
   * changed, the last ones updated where values changed (same module and
   * memory), else new ones (same count while the memory is the same).
   */
  #link(prepared: PreparedModule, slot: V8Slot, memory: WebAssembly.Memory, imports: Imports, values: unknown[]): SlotLink {
    const last = this.#links[slot.id];
    if (last !== undefined && last.prepared === prepared && last.memory === memory) {
      if (sameValues(last.values, values)) return last;
      if (relinkImports(prepared, last.imports, last.values, values, last.calls)) {
        last.values = values;
        return last;
      }
    }
    const calls = last !== undefined && last.memory === memory ? last.calls : new InstanceCalls();
    const link: SlotLink = { prepared, memory, values, imports: guardImports(prepared, imports, values, calls, memory, slot.unprotect), calls };
    this.#links[slot.id] = link;
    return link;
  }

  /**
   * A lease of what `backing` now holds, registered for reclaim. A pooled
   * slot's lease is registered when the current job ends (a microtask),
   * unless it was released by then: the usual instantiate → call → release
   * registers nothing. Until then the backing holds it, so it cannot be
   * collected unregistered; finalizers never run inside a job anyway.
   */
  #lease(backing: TenantBacking): Lease {
    const c = this.#counters;
    c.acquired += 1;
    c.active += 1;
    const lease = new Lease(backing.prepared, backing);
    if (backing.slot === null) {
      // Plain leases too, so `active` and `reclaimed` stay true for them.
      this.#registry.register(lease, -1, backing);
      return lease;
    }
    backing.unregistered = lease;
    if (!backing.queued) {
      backing.queued = true;
      this.#unregistered.push(backing);
    }
    if (!this.#registering) {
      this.#registering = true;
      queueMicrotask(this.#registerUnreleased);
    }
    return lease;
  }

  /** Registers the leases of this job not released yet (see #lease). */
  readonly #registerUnreleased = (): void => {
    this.#registering = false;
    const queue = this.#unregistered;
    for (let i = 0; i < queue.length; i++) {
      const backing = queue[i] as TenantBacking;
      backing.queued = false;
      const lease = backing.unregistered;
      if (lease === null) continue;
      backing.unregistered = null;
      this.#registry.register(lease, (backing.slot as V8Slot).id, backing);
    }
    queue.length = 0;
  };

  /** A lease's release(): made once per pool, so no closure is made per lease. */
  readonly #giveBackLease = (backing: TenantBacking): void => {
    if (backing.unregistered !== null) backing.unregistered = null;
    else this.#registry.unregister(backing);
    const binding = backing.binding;
    backing.binding = null;
    binding?.detach();
    const c = this.#counters;
    c.active -= 1;
    c.released += 1;
    if (backing.slot !== null) this.#giveBack(backing.slot, backing.prepared);
  };

  /** Resets a slot after its tenant and returns it to the allocator. */
  #giveBack(slot: V8Slot, prepared: PreparedModule): void {
    const c = this.#counters;
    if (this.#closed) {
      // Nothing will be served from it again: drop the memory rather than
      // reset it (its image's memfd reference was already released).
      slot.retire();
      this.#kept.drop(slot.id);
      this.#links[slot.id] = undefined;
      this.#allocator.free(slot.id, null);
      this.#waiters.notify();
      return;
    }
    this.#kept.beforeReset(slot.id);
    try {
      slot.release(prepared.resetSettings, this.#resets, prepared.slotKey);
      c.bytesRestored += slot.lastResetCopied;
      this.#kept.afterReset(slot.id);
    } catch {
      // The slot is `unknown` now: its next use does a full reset, so no data
      // survives. The failure is counted, not thrown at the tenant.
      c.resetFailures += 1;
      this.#kept.drop(slot.id);
    }
    if (slot.state === 'retired') {
      this.#kept.drop(slot.id);
      this.#links[slot.id] = undefined;
    }
    this.#allocator.free(slot.id, slot.state === 'clean' ? prepared.slotKey : null);
    this.#waiters.notify();
  }

  /**
   * A lease or reservation was garbage-collected unreleased: drop its memory
   * (never reuse it). Finalizers run between tasks, never inside a
   * synchronous call; and since the memory is retired rather than reset,
   * even an instance still running (a nested event loop) writes only into a
   * memory no other tenant gets.
   */
  #reclaim(token: ReclaimToken): void {
    const c = this.#counters;
    const isLease = typeof token === 'number';
    const index = isLease ? token : token.slot;
    if (index < 0) {
      c.reclaimed += 1;
      c.active -= 1;
      return;
    }
    const slot = this.#slots[index];
    if (slot === undefined || slot.state !== 'leased') return;
    c.reclaimed += 1;
    if (isLease) c.active -= 1;
    // Something may still hold the raw instance or memory; a retired memory
    // is never handed to another tenant.
    slot.retire();
    this.#kept.drop(slot.id);
    this.#links[slot.id] = undefined;
    // The lost lease's tenancy: the slot's next tenant gets a new backing.
    this.#backings[slot.id] = undefined;
    this.#hosts.of(slot.id)?.detach();
    this.#allocator.free(slot.id, null);
    this.#waiters.notify();
  }
}

/**
 * The memory 0 of a plain instance: its export, else what the imports gave
 * it; null when neither reaches it.
 */
function plainMemory(prepared: PreparedModule, instance: WebAssembly.Instance, imports: Imports): WebAssembly.Memory | null {
  const exported = prepared.layout.memoryExportNames[0];
  if (exported !== undefined) return instance.exports[exported] as WebAssembly.Memory;
  const imported = prepared.layout.imports.find((i) => i.kind === 'memory' && i.index === 0);
  const value = imported === undefined ? undefined : imports[imported.module]?.[imported.name];
  return value instanceof WebAssembly.Memory ? value : null;
}

/** Creates an instance pool; `config` is validated (INVALID_CONFIG names every bad field). */
export function createPool(config: PoolConfigInput | PoolConfig = {}): InstancePool {
  return new InstancePool(config);
}
