/**
 * Each slot's host bindings (see host-context.ts), owned by one pool: made
 * when a slot first serves a module prepared with `host`, kept while the slot
 * serves that module, replaced when it serves another.
 *
 * Invariant: `#bySlot[i]`, when set, is the binding slot i's tenants of
 *            `#bySlot[i].prepared` linked through `#bySlot[i].factory` get; at most one tenant is
 *            attached to it at a time (a slot has one lease at a time).
 */
import { HostBinding, type HostFactory } from './host-context.js';
import type { PreparedModule } from './prepared-module.js';

interface SlotBinding {
  prepared: PreparedModule;
  factory: HostFactory;
  binding: HostBinding;
}

export class SlotHostBindings {
  readonly #bySlot: (SlotBinding | undefined)[] = [];

  /** Slot `slot`'s binding for `prepared` made by `factory` (the module's `host`, or the WASI host), made on first use. */
  forSlot(slot: number, prepared: PreparedModule, factory: HostFactory): HostBinding {
    const last = this.#bySlot[slot];
    if (last !== undefined && last.prepared === prepared && last.factory === factory) return last.binding;
    const binding = new HostBinding(factory, prepared.name);
    this.#bySlot[slot] = { prepared, factory, binding };
    return binding;
  }

  /** The binding slot `slot` has now, if any (to detach its tenant). */
  of(slot: number): HostBinding | undefined {
    return this.#bySlot[slot]?.binding;
  }

  clear(): void {
    this.#bySlot.length = 0;
  }
}
