/**
 * The claim protocol of one job slot: who owns the slot's bytes, decided by
 * one compare-and-swap on the slot's state word, so the dispatcher (the HTTP
 * thread) and a worker thread never both think a job is theirs.
 *
 *            offer (dispatcher)          claim (worker)
 *   FREE ───────────────────► QUEUED ───────────────────► CLAIMED
 *    ▲  ▲                       │                            │
 *    │  └───────────────────────┘ reclaim (dispatcher)       │ complete (worker)
 *    │                                                       ▼
 *    └──────────────────────────────────────────────────── DONE
 *                          collect (dispatcher)
 *
 * FREE and DONE belong to the dispatcher, CLAIMED to the worker; QUEUED is
 * the only state both may leave, and the CAS decides which of them did: a
 * job the dispatcher reclaimed (to give it to another worker, because the
 * one it was queued on is stuck in a runaway) can no longer be claimed, and a
 * job a worker claimed can no longer be reclaimed.
 *
 * Pure: the table and `step` work on any Int32Array (shared or not), which
 * is what lets the protocol be property-tested on one thread.
 */

export const FREE = 0;
export const QUEUED = 1;
export const CLAIMED = 2;
export const DONE = 3;
export type SlotState = typeof FREE | typeof QUEUED | typeof CLAIMED | typeof DONE;

export type ClaimAction = 'offer' | 'claim' | 'reclaim' | 'complete' | 'collect';

/** Each action: the state it needs, the state it leaves, and which side may take it. */
export const CLAIM_STEPS: Readonly<Record<ClaimAction, { readonly from: SlotState; readonly to: SlotState; readonly by: 'dispatcher' | 'worker' }>> = {
  offer: { from: FREE, to: QUEUED, by: 'dispatcher' },
  claim: { from: QUEUED, to: CLAIMED, by: 'worker' },
  reclaim: { from: QUEUED, to: FREE, by: 'dispatcher' },
  complete: { from: CLAIMED, to: DONE, by: 'worker' },
  collect: { from: DONE, to: FREE, by: 'dispatcher' },
};

/**
 * Takes `action` on the state word at `index` if the word is in the action's
 * `from` state; returns whether it did. One atomic compare-and-swap: of two
 * sides racing for a QUEUED job, exactly one wins.
 */
export function step(words: Int32Array, index: number, action: ClaimAction): boolean {
  const { from, to } = CLAIM_STEPS[action];
  return Atomics.compareExchange(words, index, from, to) === from;
}
