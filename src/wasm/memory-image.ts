/**
 * The initial contents of memory 0: what V8 would hold right after running
 * the active data segments of a fresh instance, built once ahead of time.
 *
 * ```
 *   memory  [0 ............................................ initialPages * 64 KiB)
 *   image   [0 ............ end ...... length)
 *            segments,       ^ furthest   ^ rounded up to pageSize
 *            later wins      segment end
 * ```
 * Bytes past `length` are zero in a fresh memory, so the image stops there.
 */
import { ok } from 'node:assert/strict';
import { evaluateI32 } from './const-expr.js';
import type { DataSegmentEntry } from './module-info.js';

export const WASM_PAGE_BYTES = 65_536;

export type MemoryImage =
  | {
      ok: true;
      /** Memory bytes `[0, image.length)`; `image.length` is a multiple of pageSize (0 without non-empty active data). */
      image: Uint8Array;
      /** Un-rounded end of the furthest active segment, zero-length ones included. */
      end: number;
    }
  | { ok: false; reason: 'non-constant-data-offset' | 'image-exceeds-initial-memory' | 'image-over-limit'; detail: string };

/** Sum of the payload lengths of the active segments. */
export function activeDataBytes(segments: readonly DataSegmentEntry[]): number {
  let total = 0;
  for (const s of segments) if (s.mode === 'active') total += s.dataLength;
  return total;
}

/**
 * Lay the active segments of `bytes` (all for memory 0) out as V8 would at
 * instantiation: each at its constant offset, in order, later ones
 * overwriting earlier ones. Returns a fallback instead when an offset is not
 * a constant, or when a segment would not fit in the initial memory
 * (instantiation traps then, and only V8 may produce that trap).
 */
export function buildMemoryImage(
  bytes: Uint8Array,
  segments: readonly DataSegmentEntry[],
  initialPages: number,
  pageSize: number,
  maxImageBytes = Number.POSITIVE_INFINITY,
): MemoryImage {
  ok(Number.isInteger(pageSize) && pageSize > 0 && WASM_PAGE_BYTES % pageSize === 0, 'pageSize must divide 64 KiB');
  const initialBytes = initialPages * WASM_PAGE_BYTES;
  const placed: { segment: DataSegmentEntry; offset: number }[] = [];
  let end = 0;
  let contentEnd = 0;
  for (const segment of segments) {
    if (segment.mode !== 'active') continue;
    ok(segment.offsetExpr !== null, 'an active segment has an offset expression');
    const offset = evaluateI32(segment.offsetExpr);
    if (!offset.constant) {
      return {
        ok: false,
        reason: 'non-constant-data-offset',
        detail:
          `data segment ${segment.index} (byte ${segment.start}) is placed by \`${offset.reason}\`, which is only known at instantiation, ` +
          'so no image can be built ahead of time; the module is served by plain instantiation. ' +
          'To serve it copy-on-write, link it at a fixed address (not as a relocatable/PIC module).',
      };
    }
    const segmentEnd = offset.value + segment.dataLength;
    if (segmentEnd > initialBytes) {
      return {
        ok: false,
        reason: 'image-exceeds-initial-memory',
        detail:
          `data segment ${segment.index} (byte ${segment.start}) covers memory [${offset.value}, ${segmentEnd}) but the initial memory is ` +
          `${initialBytes} bytes (${initialPages} pages of 64 KiB); instantiation traps, and that trap is left to V8. ` +
          'Raise the initial memory size or move the segment if the module is meant to instantiate.',
      };
    }
    end = Math.max(end, segmentEnd);
    if (segment.dataLength > 0) contentEnd = Math.max(contentEnd, segmentEnd);
    placed.push({ segment, offset: offset.value });
  }

  const length = Math.ceil(contentEnd / pageSize) * pageSize;
  // Checked before allocating: a few bytes of module can ask for a 4 GiB image.
  if (length > maxImageBytes) {
    return {
      ok: false,
      reason: 'image-over-limit',
      detail: `the initial memory image would be ${length} bytes, above limits.maxImageBytes (${maxImageBytes}); ` +
        'the module is served by plain instantiation. Raise limits.maxImageBytes to pool it.',
    };
  }
  // 64 KiB is a multiple of pageSize, so rounding up never passes the initial memory.
  ok(length <= initialBytes, `rounded image length ${length} exceeds the initial memory ${initialBytes}`);
  const image = new Uint8Array(length);
  for (const { segment, offset } of placed) {
    if (segment.dataLength === 0) continue;
    image.set(bytes.subarray(segment.dataStart, segment.dataStart + segment.dataLength), offset);
  }
  return { ok: true, image, end };
}
