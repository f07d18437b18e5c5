/**
 * A tenant's hold on one instance. Everything reached through the lease
 * (exports, memory, instance) throws LEASE_RELEASED once it is released, and
 * so does calling an export function taken out of `exports` before.
 *
 * What cannot be revoked: a Memory, Global or Table object (or the raw
 * instance) the tenant took out and kept. Under the pooled strategies the
 * Memory is the slot's, which the next tenant gets; a host that keeps such
 * objects past release() gives up isolation from the next tenant.
 *
 * A lease cannot be released while its instance runs (an import of it on
 * the stack, or a call through `exports` not yet returned): release() then
 * throws LEASE_IN_CALL and the lease stays active.
 *
 * Invariant: `backing` is non-null exactly while the lease is active; it is
 *            dropped before `giveBack` runs, since a pooled slot's backing
 *            serves its next tenant once given back (see TenantBacking).
 * Invariant: `giveBack` runs at most once per lease (release or reclaim),
 *            and never while `backing.calls.depth` > 0.
 */
import { threadId } from 'node:worker_threads';
import { CowpoolError } from '../errors.js';
import { createExportsView, leaseReleasedError, type ExportsOwner } from './exports-view.js';
import type { InstanceCalls } from './instance-calls.js';
import type { PreparedModule } from './prepared-module.js';
import { VirtualMemory } from './virtual-memory.js';

/**
 * What the pool attaches to a lease: the instance and how to take it back.
 * A pooled slot's backing is the same object for each of its tenants in
 * turn: the lease drops it on release and never reads it again.
 */
export interface LeaseBacking {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory | null;
  /** Calls in flight in the instance (its imports are wrapped to count them). */
  readonly calls: InstanceCalls;
  /** Returns the slot to the pool; called once. */
  giveBack(): void;
}

/**
 * `E` is the shape of the module's exports as the caller knows it
 * (`pool.instantiate<{ add(a: number, b: number): number }>(prepared)`); the
 * pool does not check it against the module.
 */
export class Lease<E extends object = Record<string, unknown>> implements ExportsOwner {
  #backing: LeaseBacking | null;
  #exports: E | null = null;
  readonly #thread = threadId;

  constructor(
    readonly prepared: PreparedModule,
    backing: LeaseBacking,
  ) {
    this.#backing = backing;
  }

  /** The instance's exports; function exports throw LEASE_RELEASED once released. */
  get exports(): E {
    this.assertActive('exports');
    return (this.#exports ??= createExportsView(this.prepared.module, this.prepared.layout.exports, this) as E);
  }

  /**
   * Names of the original module's exports, in order (what
   * `Object.keys(lease.exports)` lists too).
   */
  get exportNames(): string[] {
    return this.prepared.layout.exports.map((e) => e.name);
  }

  /**
   * The raw instance, for glue that needs it (Emscripten). Unlike `exports`,
   * its functions are not guarded: never call them after release().
   */
  get instance(): WebAssembly.Instance {
    const backing = this.active('instance');
    // Its memory has the physical size: open what lies past the virtual one (zeros) first.
    if (backing.memory instanceof VirtualMemory) backing.memory.expose('lease.instance');
    return backing.instance;
  }

  /** The instance's memory 0 (pooled or V8's), or null without one. */
  get memory(): WebAssembly.Memory | null {
    return this.active('memory').memory;
  }

  /** @internal memory 0 as the exports view shows it: the lease's view when memory 0 has a virtual size. */
  exportedMemory(value: unknown): unknown {
    const memory = this.active('exports').memory;
    // A module with a virtual size has one memory (memory 0), so any memory export is it.
    return memory instanceof VirtualMemory ? memory : value;
  }

  get released(): boolean {
    return this.#backing === null;
  }

  /** @internal the instance's call count, for the view's wrappers. */
  get calls(): InstanceCalls {
    return this.active('exports').calls;
  }

  /** @internal the unwrapped exports for the view. */
  get rawExports(): WebAssembly.Exports {
    return this.active('exports').instance.exports;
  }

  assertActive(what: string): void {
    if (this.#backing === null) throw leaseReleasedError(what);
  }

  /**
   * Gives the instance back; its memory is reset for the next tenant. A
   * second call throws LEASE_RELEASED; a call while the instance runs (from
   * one of its imports) throws LEASE_IN_CALL and changes nothing.
   */
  release(): void {
    if (!(#backing in this)) {
      // Only a copy gets here: postMessage (structured clone) copies a lease's
      // public fields into a plain object in the other thread, never the lease.
      throw new CowpoolError(
        'WRONG_OWNER',
        'release(): this is not a lease of this thread; a Lease cannot be sent to another thread (postMessage copies only its public fields). Release it in the thread that created it.',
      );
    }
    const backing = this.active('release()');
    if (threadId !== this.#thread) {
      throw new CowpoolError('WRONG_OWNER', `release(): this lease belongs to thread ${this.#thread}, not ${threadId}`);
    }
    backing.calls.assertIdle('release()');
    this.#backing = null;
    backing.giveBack();
  }

  /** `using lease = pool.instantiate(...)` support. */
  [Symbol.dispose](): void {
    if (this.#backing !== null) this.release();
  }

  private active(what: string): LeaseBacking {
    if (this.#backing === null) throw leaseReleasedError(what);
    return this.#backing;
  }
}
