/**
 * Each slot's host bindings (see host-context.ts), owned by one pool: made
 * when a slot first serves a module prepared with `host`, kept while the slot
 * serves that module, replaced when it serves another.
 *
 * Invariant: `#bySlot[i]`, when set, is the binding slot i's tenants of
 *            `#bySlot[i].prepared` are linked to; at most one tenant is
 *            attached to it at a time (a slot has one lease at a time).
 */
import { HostBinding } from './host-context.js';
import type { PreparedModule } from './prepared-module.js';

interface SlotBinding {
  prepared: PreparedModule;
  binding: HostBinding;
}

export class SlotHostBindings {
  readonly #bySlot: (SlotBinding | undefined)[] = [];

  /** Slot `slot`'s binding for `prepared` (which has a host), made on first use. */
  forSlot(slot: number, prepared: PreparedModule): HostBinding {
    const last = this.#bySlot[slot];
    if (last !== undefined && last.prepared === prepared) return last.binding;
    const binding = new HostBinding(prepared.host!, prepared.name);
    this.#bySlot[slot] = { prepared, binding };
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
