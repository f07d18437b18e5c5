/**
 * The grown tail of a memory with a virtual size: the pages a tenant grew
 * past the module's initial size, put back to "past the end" when it leaves.
 *
 *   |<-- initial (the image; reset by the slot's mode) -->|<-- tail: zeroed, then PROT_NONE -->|
 *   0                                                initialBytes                   buffer.byteLength
 *
 * The tail's private pages are zeroed in place (restore-dirty: they stay
 * resident, so the next tenant that grows into them takes no page fault),
 * or dropped (madvise) where page scans are unavailable. The pages the
 * kernel counts as private beyond `maxResidentBytes` are dropped as well.
 */
import { addon, native } from '../native/addon.js';
import { capabilitiesFor, type ResetSettings } from './memory-reset.js';
import { activeModeFor, RESET_MODE_TABLE } from './reset-mode-table.js';

/** Zeroes and closes `[initialBytes, buffer.byteLength)`. Returns the bytes zeroed by copying. */
export function releaseGrownTail(buffer: ArrayBuffer, initialBytes: number, settings: ResetSettings): number {
  const mode = activeModeFor('restore-dirty', capabilitiesFor(settings.disable));
  return native(() => addon().releaseTail(buffer, initialBytes, RESET_MODE_TABLE[mode].native, 0, settings.maxResidentBytes));
}
