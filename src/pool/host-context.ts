/**
 * Host bindings made once per slot: `pool.prepare(bytes, { host: (ctx) => imports })`.
 * The pool calls `host` once per slot (and module) and links every tenant of
 * that slot to the same functions; they read the tenant that is current
 * through `ctx`. Same functions every time is what lets a slot reuse its
 * guarded imports and `reuse` keep its instance.
 *
 *   detached ──attach(tenant)──► current(memory, data; exports once instantiated) ──detach()──► detached
 *                                   └─ ctx readable only inside a host call (depth > 0)
 *
 * Invariant: `#tenant` is non-null exactly while a lease of this binding's
 *            slot is current (from just before instantiation to release).
 * Invariant: `#depth` counts calls of this binding's host functions entered
 *            and not yet left.
 * Invariant: `imports` and the functions in it never change after construction.
 *
 * Why ctx is readable only inside a host call: the functions are shared by
 * every tenant of the slot, so a reference to `ctx` kept by one tenant's
 * request (a timer, a promise) is the same object the next tenant's calls
 * use. Reads from inside a host call are made on the stack of the current
 * tenant's instance; a stale reference runs between tasks, outside any call,
 * and is refused (LEASE_RELEASED) instead of reading the new tenant's memory.
 */
import { CowpoolError } from '../errors.js';
import { GuestFault, readBytes, readString, writeBytes, writeString, type MemoryContext } from './guest-memory.js';
import { VirtualMemory } from './virtual-memory.js';

/** What a host function sees of the tenant calling it. */
export interface HostContext<Data = unknown> extends MemoryContext {
  /** The current tenant's memory 0 (null only for a plain instance without one). */
  readonly memory: WebAssembly.Memory | null;
  /** The current tenant's raw exports (not yet available inside its start function). */
  readonly exports: WebAssembly.Exports;
  /** What `pool.instantiate(prepared, { data })` passed for this tenant. */
  readonly data: Data;
  /** The UTF-8 string at `[ptr, ptr + length)`; out of bounds traps the guest. */
  readString(ptr: number, length: number): string;
  /** Writes `text` as UTF-8 at `ptr` (at most `capacity` bytes, NUL-terminated when `nul` and it fits); returns the bytes written. */
  writeString(ptr: number, capacity: number, text: string, nul?: boolean): number;
  /** A copy of `[ptr, ptr + length)`. */
  readBytes(ptr: number, length: number): Uint8Array;
  /** Writes `bytes` at `ptr`, all or nothing. */
  writeBytes(ptr: number, bytes: Uint8Array): void;
}

/** Makes a slot's imports once; the functions close over `ctx`. */
export type HostFactory<Data = unknown> = (ctx: HostContext<Data>) => WebAssembly.Imports;

/** Per-request options of `instantiate` for a module prepared with `host`. */
export interface InstantiateOptions<Data = unknown> {
  data?: Data;
}

interface Tenant {
  memory: WebAssembly.Memory | null;
  exports: WebAssembly.Exports | null;
  data: unknown;
}

type HostFunction = (...args: unknown[]) => unknown;

/** The pool's side of one slot's host bindings; `ctx` is the host's side. */
export class HostBinding {
  readonly ctx: HostContext;
  readonly imports: WebAssembly.Imports;
  #tenant: Tenant | null = null;
  #depth = 0;

  constructor(factory: HostFactory, name: string) {
    this.ctx = new BoundContext(this);
    const made: unknown = factory(this.ctx);
    if (typeof made !== 'object' || made === null) {
      throw new CowpoolError('INVALID_ARGUMENT', `prepare(${name}) options.host must return an imports object ({ module: { name: value } }), got ${made === null ? 'null' : typeof made}`);
    }
    this.imports = this.#wrap(made as WebAssembly.Imports);
  }

  get attached(): boolean {
    return this.#tenant !== null;
  }

  /** Points ctx at a new tenant. Entry: detached. */
  attach(memory: WebAssembly.Memory | null, data: unknown, exports: WebAssembly.Exports | null): void {
    if (this.#tenant !== null) throw new CowpoolError('SLOT_STATE', 'HostBinding.attach(): a tenant is still current (an internal invariant)');
    this.#tenant = { memory, exports, data };
  }

  /** Completes the tenant once its instance exists. Entry: attached. */
  instantiated(memory: WebAssembly.Memory | null, exports: WebAssembly.Exports): void {
    const tenant = this.#tenant;
    if (tenant === null) throw new CowpoolError('SLOT_STATE', 'HostBinding.instantiated(): no tenant is current (an internal invariant)');
    tenant.memory = memory;
    tenant.exports = exports;
  }

  /** The tenant is gone: calls and ctx reads throw LEASE_RELEASED from now on. */
  detach(): void {
    this.#tenant = null;
  }

  /** @internal the current tenant, for ctx reads; throws outside a call of the current tenant. */
  current(what: string): Tenant {
    const tenant = this.#tenant;
    if (tenant === null) {
      throw new CowpoolError('LEASE_RELEASED', `ctx.${what}: no lease is current on this slot (the tenant was released); host functions serve only the tenant calling them`);
    }
    if (this.#depth === 0) {
      throw new CowpoolError(
        'LEASE_RELEASED',
        `ctx.${what}: read outside a host call; ctx belongs to whichever tenant is calling a host function now, so use it only inside one (use lease.memory / lease.exports from the host's own code)`,
      );
    }
    return tenant;
  }

  #wrap(imports: WebAssembly.Imports): WebAssembly.Imports {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [module, fields] of Object.entries(imports)) {
      if (typeof fields !== 'object' || fields === null) {
        (out as Record<string, unknown>)[module] = fields;
        continue;
      }
      const into: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(fields)) {
        into[name] = typeof value === 'function' ? this.#bound(value as HostFunction, `${module}.${name}`) : value;
      }
      out[module] = into;
    }
    return out as WebAssembly.Imports;
  }

  /**
   * `fn` refusing a call with no tenant current (LEASE_RELEASED: a kept raw
   * instance called after release) and turning a GuestFault from the ctx
   * helpers into a trap, as the guest's own out-of-bounds access would be.
   */
  #bound(fn: HostFunction, name: string): HostFunction {
    const binding = this;
    const wrapper = function hostImport(...args: unknown[]): unknown {
      if (binding.#tenant === null) {
        throw new CowpoolError('LEASE_RELEASED', `host import ${name}: no lease is current on this slot; the instance was called after its lease was released`);
      }
      binding.#depth += 1;
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof GuestFault) throw new WebAssembly.RuntimeError(`host import ${name}: ${e.message}`);
        throw e;
      } finally {
        binding.#depth -= 1;
      }
    };
    // guardImports calls a function directly when wasm passes fn.length arguments.
    Object.defineProperty(wrapper, 'length', { value: fn.length });
    return wrapper;
  }
}

/** `ctx`: every read goes through the binding's current tenant. */
class BoundContext implements HostContext {
  readonly #binding: HostBinding;

  constructor(binding: HostBinding) {
    this.#binding = binding;
  }

  get memory(): WebAssembly.Memory | null {
    return this.#binding.current('memory').memory;
  }

  get exports(): WebAssembly.Exports {
    const tenant = this.#binding.current('exports');
    const exports = tenant.exports;
    // The raw exports reach the memory at its physical size: open what lies past the virtual one (zeros) first.
    if (exports !== null && tenant.memory instanceof VirtualMemory) tenant.memory.expose('ctx.exports');
    if (exports === null) throw new CowpoolError('INSTANTIATE_FAILED', 'ctx.exports: the instance is still being created (its start function is running); exports exist once it returns');
    return exports;
  }

  get data(): unknown {
    return this.#binding.current('data').data;
  }

  readString(ptr: number, length: number): string {
    return readString(this, ptr, length) as string;
  }

  writeString(ptr: number, capacity: number, text: string, nul = false): number {
    return writeString(this, ptr, capacity, text, nul);
  }

  readBytes(ptr: number, length: number): Uint8Array {
    return readBytes(this, ptr, length);
  }

  writeBytes(ptr: number, bytes: Uint8Array): void {
    writeBytes(this, ptr, bytes);
  }
}
