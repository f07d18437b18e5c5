/**
 * How a slot's memory is put back to "image then zeros" after a tenant.
 * The slot types call only these two functions; the mode logic lives here.
 */
import { addon, native, NativeResetMode, type NativeImage, type NativeRawSlot } from '../native/addon.js';

export type ResetModeName = 'madvise' | 'keep-resident' | 'restore-dirty' | 'track-writes' | 'auto';

export interface ResetSettings {
  mode: ResetModeName;
  /** keep-resident: bytes at the start of memory restored by copying instead of madvise. */
  keepResidentBytes: number;
  /** restore-dirty: cap on private bytes kept resident before falling back to madvise. */
  maxResidentBytes: number;
  /** restore-dirty: madvise the whole range every this many resets. */
  trimEvery: number;
}

export const DEFAULT_RESET: ResetSettings = {
  mode: 'madvise',
  keepResidentBytes: 1 << 20,
  maxResidentBytes: 16 << 20,
  trimEvery: 1000,
};

function nativeMode(mode: ResetModeName): number {
  return mode === 'keep-resident' ? NativeResetMode.keepResident : NativeResetMode.madvise;
}

/** Resets a WebAssembly.Memory buffer whose first bytes map `image`. Returns bytes copied. */
export function resetV8Memory(buffer: ArrayBuffer, image: NativeImage | null, settings: ResetSettings): number {
  const copied = native(() => addon().resetMemory(buffer, image, nativeMode(settings.mode), settings.keepResidentBytes));
  countReset(settings.mode, copied);
  return copied;
}

/** Resets a raw slot to its image, zeros, and `initialBytes`. Returns bytes copied. */
export function resetRawSlot(slot: NativeRawSlot, initialBytes: number, settings: ResetSettings): number {
  const copied = native(() => slot.reset(nativeMode(settings.mode), settings.keepResidentBytes, initialBytes));
  countReset(settings.mode, copied);
  return copied;
}

/** Process-wide reset counters, per active mode (the pool puts them in stats()). */
export interface ResetModeCounters {
  resets: number;
  bytesCopied: number;
}

const counters = new Map<string, ResetModeCounters>();

/** Records one reset done in `mode` (called by the reset functions above). */
export function countReset(mode: string, bytesCopied: number): void {
  let c = counters.get(mode);
  if (c === undefined) {
    c = { resets: 0, bytesCopied: 0 };
    counters.set(mode, c);
  }
  c.resets += 1;
  c.bytesCopied += bytesCopied;
}

/** A copy of the counters, keyed by mode name. */
export function resetStatistics(): Record<string, ResetModeCounters> {
  const out: Record<string, ResetModeCounters> = {};
  for (const [mode, c] of counters) out[mode] = { ...c };
  return out;
}
