/**
 * The life of one slot (DESIGN: "Slot (one memory's state)").
 *
 *   cold ──configure──► clean ──lease──► leased ──release──► dirty ──reset──► clean
 *                          ▲                                   │
 *                          └──────── full reset ◄── unknown ◄──┘ (any failed system call)
 *   leased/dirty ──grew──► retired (its memory is dropped; a new one is made on next use)
 *
 * - `clean`: holds exactly its image and zeros; may be handed out.
 * - `leased`: a tenant owns it.
 * - `dirty`: released, not yet reset.
 * - `unknown`: a system call failed part way; contents are not trusted until
 *   a full reset (remap + reset) succeeds, else the pool retires it.
 * - `retired`: the memory is gone (it grew, or a full reset failed); the slot
 *   index stays and gets a new memory on its next use.
 */
export type SlotState = 'cold' | 'clean' | 'leased' | 'dirty' | 'unknown' | 'retired';

export const SLOT_STATES: readonly SlotState[] = ['cold', 'clean', 'leased', 'dirty', 'unknown', 'retired'];
