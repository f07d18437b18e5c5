/**
 * The `reuse` strategy's bookkeeping: per slot, the instance it keeps between
 * tenants and what rewinds it (see reuse-snapshot.ts). A kept instance is
 * handed only to a tenant of the same module, on the same memory, linking
 * the same import values (otherwise its calls would reach the previous
 * tenant's host functions); anything else drops it.
 *
 *   slot id ──► KeptInstance { prepared, instance, memory, snapshot, linked, calls }
 *
 * Invariant: `#bySlot[i]` holds an instance whose memory is slot i's memory,
 *            linked to the import values in `linked`, whose calls in flight
 *            are counted on `calls` (the slot's linking's, see InstancePool).
 */
import { sameValues, type InstanceCalls } from './instance-calls.js';
import type { PreparedModule } from './prepared-module.js';
import { InstanceSnapshot } from './reuse-snapshot.js';

export interface KeptInstance {
  readonly prepared: PreparedModule;
  readonly instance: WebAssembly.Instance;
  /** The memory it was linked with: a slot that replaced its memory cannot keep the instance. */
  readonly memory: WebAssembly.Memory;
  readonly snapshot: InstanceSnapshot;
  /** The import values it was linked with (see importValues). */
  readonly linked: readonly unknown[];
  /** Its calls in flight, shared by each lease it serves. */
  readonly calls: InstanceCalls;
}

export class KeptInstances {
  readonly #bySlot = new Map<number, KeptInstance>();

  /** The instance slot `slot` keeps for a tenant of `prepared` on `memory` linking `values`; drops one that does not fit. */
  reusable(slot: number, prepared: PreparedModule, memory: WebAssembly.Memory, values: readonly unknown[]): KeptInstance | undefined {
    const kept = this.#bySlot.get(slot);
    if (kept === undefined) return undefined;
    if (kept.prepared === prepared && kept.memory === memory && sameValues(kept.linked, values)) return kept;
    // Another module, other host functions, or the slot's memory was replaced.
    this.#bySlot.delete(slot);
    return undefined;
  }

  /** Keeps `instance` for slot `slot`, with a snapshot of what reuse rewinds. */
  keep(slot: number, prepared: PreparedModule, instance: WebAssembly.Instance, memory: WebAssembly.Memory, linked: readonly unknown[], calls: InstanceCalls): void {
    this.#bySlot.set(slot, { prepared, instance, memory, snapshot: InstanceSnapshot.take(instance, prepared.layout.internals, prepared.layout.virtualSize), linked, calls });
  }

  /** Drops slot `slot`'s instance when it serves another module (the slot is being acquired for `prepared`). */
  forOtherModule(slot: number, prepared: PreparedModule): void {
    if (this.#bySlot.get(slot)?.prepared !== prepared) this.#bySlot.delete(slot);
  }

  /** Before the slot's memory is reset: drops an instance whose state cannot be rewound (a table grew). */
  beforeReset(slot: number): void {
    const kept = this.#bySlot.get(slot);
    if (kept !== undefined && !kept.snapshot.restorable()) this.#bySlot.delete(slot);
  }

  /** After the slot's memory was reset: rewinds its instance's globals and tables. */
  afterReset(slot: number): void {
    this.#bySlot.get(slot)?.snapshot.restore();
  }

  drop(slot: number): void {
    this.#bySlot.delete(slot);
  }

  clear(): void {
    this.#bySlot.clear();
  }
}
