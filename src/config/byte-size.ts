/**
 * Byte sizes as people write them in a config file: a whole number of bytes
 * (`65536`, `"65536"`) or a number with a binary unit (`"64KiB"`, `"1.5GiB"`).
 *
 * Only binary units are accepted. Slot sizes must be multiples of the 64 KiB
 * wasm page and guards multiples of the 4 KiB system page, so a decimal
 * "64MB" would almost never be valid; it is refused with the binary spelling
 * suggested instead of being read as something the user did not mean.
 */
import { z } from 'zod';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

const UNITS: Readonly<Record<string, number>> = { B: 1, KiB, MiB, GiB, TiB };

/** The accepted string form; also published in the JSON Schema so editors flag bad values. */
export const BYTE_SIZE_PATTERN = /^(\d+(?:\.\d+)?) ?(B|KiB|MiB|GiB|TiB)?$/;

/** `"64MiB"` → 67108864; `undefined` when `text` is not in the accepted form or not a whole number of bytes. */
export function parseByteSize(text: string): number | undefined {
  const m = BYTE_SIZE_PATTERN.exec(text);
  if (m === null) return undefined;
  const scale = UNITS[m[2] ?? 'B'] ?? 1;
  const bytes = Number(m[1]) * scale;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** 67108864 → `"64MiB"`; a size that is no whole number of any unit is written in bytes. */
export function formatByteSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const scale = UNITS[unit] ?? 1;
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * What the user probably meant by a size string that did not parse: decimal
 * or wrongly-cased units are mapped to the binary unit of the same letter.
 */
function suggestByteSize(text: string): string | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (m === null) return undefined;
  const letter = (m[2] ?? '').charAt(0).toUpperCase();
  const unit = { '': '', B: 'B', K: 'KiB', M: 'MiB', G: 'GiB', T: 'TiB' }[letter];
  if (unit === undefined) return undefined;
  const candidate = `${m[1]}${unit}`;
  return parseByteSize(candidate) === undefined ? undefined : candidate;
}

export interface ByteSizeBounds {
  min: number;
  max: number;
  /** The size must be a multiple of this (a page size), if given. */
  multipleOf?: number;
}

/**
 * A zod schema for a byte-size field: accepts a non-negative integer or a size
 * string and outputs bytes. All bound checks happen after the unit is applied,
 * so `"63KiB"` and `64512` fail with the same message.
 */
export function byteSize(bounds: ByteSizeBounds) {
  const { min, max, multipleOf } = bounds;
  const range = `from ${formatByteSize(min)} to ${formatByteSize(max)}`
    + (multipleOf === undefined ? '' : ` in steps of ${formatByteSize(multipleOf)}`);
  return z
    .union([
      // The transform below enforces these; the metadata repeats them in the
      // JSON Schema so editors flag a bad number before cowpool ever sees it.
      z.number().meta({ type: 'integer', minimum: min, maximum: max, ...(multipleOf === undefined ? {} : { multipleOf }) }),
      z.string().regex(BYTE_SIZE_PATTERN, {
        error: (iss) => {
          const text = String(iss.input);
          const guess = suggestByteSize(text);
          return `${JSON.stringify(text)} is not a byte size — `
            + (guess === undefined ? '' : `did you mean "${guess}"? `)
            + 'write a whole number of bytes or a number with a unit B, KiB, MiB, GiB or TiB (e.g. "64MiB")';
        },
      }),
    ], {
      // Neither a number nor a string: say what a byte size looks like.
      error: (iss) => `expected a number of bytes or a size such as "64MiB", got ${JSON.stringify(iss.input) ?? 'nothing'} `
        + `— write a size ${range}`,
    })
    .transform((value, ctx) => {
      const bytes = typeof value === 'number' ? value : parseByteSize(value);
      const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
      const fail = (problem: string): never => {
        ctx.issues.push({ code: 'custom', input: value, message: `${problem} — use a size ${range}` });
        return z.NEVER;
      };
      if (bytes === undefined || !Number.isSafeInteger(bytes)) return fail(`${shown} is not a whole number of bytes`);
      if (bytes < min) return fail(`${shown} is below the minimum ${formatByteSize(min)}`);
      if (bytes > max) return fail(`${shown} is above the maximum ${formatByteSize(max)}`);
      if (multipleOf !== undefined && bytes % multipleOf !== 0) {
        const down = bytes - (bytes % multipleOf);
        const nearest = down >= min ? down : down + multipleOf;
        return fail(`${shown} is not a multiple of ${formatByteSize(multipleOf)} (try ${formatByteSize(nearest)})`);
      }
      return bytes;
    });
}
