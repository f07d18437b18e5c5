/**
 * Shared set-up for the reset tests: a WebAssembly.Memory with an image
 * mapped by the addon directly (no pool), a tiny wasm module that stores
 * bytes into it, and the settings of every reset mode under test.
 */
import wabtInit from 'wabt';
import { addon, type NativeImage } from '../../src/native/addon.js';
import { createAutoResetPolicy } from '../../src/policy/auto-reset-policy.js';
import { PoolResetState, SlotResetState, type ResetSettings } from '../../src/slots/memory-reset.js';
import { touchZeroArea } from './no-zero-page.js';

export const WASM_PAGE = 65536;

/** Deterministic bytes with no long zero runs, so a page left at zero is visible. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x & 0xff) | 1;
  }
  return out;
}

/** A reset mode under test, with the settings that select it. */
export interface ModeCase {
  readonly name: string;
  readonly settings: ResetSettings;
}

const base: ResetSettings = { mode: 'madvise', keepResidentBytes: 256 * 1024, maxResidentBytes: 16 << 20, trimEvery: 1000 };

export const MODE_CASES: readonly ModeCase[] = [
  { name: 'madvise', settings: { ...base, mode: 'madvise' } },
  { name: 'keep-resident', settings: { ...base, mode: 'keep-resident' } },
  { name: 'restore-dirty', settings: { ...base, mode: 'restore-dirty' } },
  // The pagemap-read fallback, as on a kernel without PAGEMAP_SCAN.
  { name: 'restore-dirty (pagemap read)', settings: { ...base, mode: 'restore-dirty', disable: ['pagemap_scan'] } },
  // A cap smaller than a typical write set: the over-cap discard path.
  { name: 'restore-dirty (64 KiB cap)', settings: { ...base, mode: 'restore-dirty', maxResidentBytes: 64 * 1024 } },
  { name: 'track-writes', settings: { ...base, mode: 'track-writes' } },
  // Trim every third reset: re-protection after a full discard.
  { name: 'track-writes (trim every 3)', settings: { ...base, mode: 'track-writes', trimEvery: 3 } },
  { name: 'track-writes (64 KiB cap)', settings: { ...base, mode: 'track-writes', maxResidentBytes: 64 * 1024 } },
  { name: 'auto', settings: { ...base, mode: 'auto' } },
];

/**
 * A memory of `memoryPages` wasm pages mapping an image of `imageData` that
 * spans the whole memory (data, then holes), as a pool maps it.
 * `image: 'data-only'` maps an image of the data alone over the first pages
 * and leaves the rest V8's anonymous memory (the layout before sparse images).
 */
export class MappedMemory {
  readonly memory: WebAssembly.Memory;
  readonly image: NativeImage;
  readonly expected: Uint8Array;
  readonly state = new SlotResetState();
  /** The reset state a pool would own for this memory's resets: its counters and auto policies. */
  readonly resets = new PoolResetState(createAutoResetPolicy);

  constructor(readonly imageData: Uint8Array, memoryPages: number, options: { image?: 'whole-memory' | 'data-only' } = {}) {
    this.memory = new WebAssembly.Memory({ initial: memoryPages, maximum: memoryPages });
    this.image = options.image === 'data-only'
      ? new (addon().Image)(imageData)
      : new (addon().Image)(imageData, memoryPages * WASM_PAGE);
    addon().mapImage(this.memory.buffer, this.image, 0);
    this.state.remapped();
    this.expected = new Uint8Array(this.memory.buffer.byteLength);
    this.expected.set(imageData);
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  get osPages(): number {
    return this.memory.buffer.byteLength / addon().pageSize;
  }

  /** Pages of the image that hold data (the first page past them reads zeros). */
  get imagePages(): number {
    return Math.ceil(this.image.dataLength / addon().pageSize);
  }

  /**
   * Offset of the first byte that differs from image-then-zeros, or -1.
   * Reads the whole memory, and leaves behind what that read leaves on a
   * host without a shared zero page (see touchZeroArea), so page counts
   * taken afterwards are the ones that host would see.
   */
  firstMismatch(): number {
    const actual = Buffer.from(this.memory.buffer);
    const equal = actual.equals(this.expected);
    touchZeroArea(this.memory.buffer);
    if (equal) return -1;
    for (let i = 0; i < actual.length; i++) if (actual[i] !== this.expected[i]) return i;
    return -1;
  }
}

/** A wasm instance over `memory` exporting store8(address, value). */
export async function wasmStore(memory: WebAssembly.Memory): Promise<(address: number, value: number) => void> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat(
    'store.wat',
    `(module
       (import "env" "memory" (memory 1))
       (func (export "store8") (param i32 i32) local.get 0 local.get 1 i32.store8))`,
  );
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(buffer), { env: { memory } });
  return instance.exports.store8 as (address: number, value: number) => void;
}
