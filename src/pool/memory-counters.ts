/** What a pool's resets cost in memory, for `stats().memory`. */
import { addon } from '../native/addon.js';
import type { SlotResetState } from '../slots/reset-slot-state.js';
import type { SlotState } from '../slots/slot-state.js';

export interface MemoryCounters {
  /** Bytes restored by copying over all resets of the pool (keep-resident, restore-dirty, track-writes; copy's memset). */
  bytesRestored: number;
  /**
   * Private bytes (restored in place, still resident) the pool's clean slots
   * hold, as their last resets counted them; slots whose count is unknown
   * (track-writes resets that did not count) are left out.
   */
  residentPrivateBytes: number;
}

/** Sums the private pages the last reset of each clean slot left resident. */
export function residentPrivateBytesOf(slots: readonly { state: SlotState; resetState: SlotResetState }[]): number {
  let pages = 0;
  for (const slot of slots) if (slot.state === 'clean') pages += slot.resetState.keptPrivatePages ?? 0;
  return pages * addon().pageSize;
}
