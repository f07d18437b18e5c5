/**
 * The pool configuration: one zod schema is the single source of truth for
 * field names, types, bounds, defaults and help text. `config/pool.json` is
 * these defaults written out, and `config/pool.schema.json` is this schema
 * converted for editors (`npm run schema`; a test keeps it from drifting).
 *
 * Every object is strict: an unknown key is an error (usually a typo that
 * would otherwise silently leave a default in place).
 */
import { z } from 'zod';
import { byteSize, GiB, KiB, MiB } from './byte-size.js';

/** How each instance gets its memory; see DESIGN.md "Strategies the bench compares". */
export const STRATEGIES = ['fresh', 'copy', 'cow', 'reuse'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** How a released slot is made clean for its next tenant. */
export const RESET_MODES = ['madvise', 'keep-resident', 'restore-dirty', 'track-writes', 'auto'] as const;
export type ResetMode = (typeof RESET_MODES)[number];

/** Upper bound on maxSlots: far above what one process can use, low enough to catch a stray extra digit. */
export const MAX_SLOTS_LIMIT = 65_536;

/** The wasm page; a slot's size is a whole number of them. */
const WASM_PAGE = 64 * KiB;
/** The system page; guards and resident byte counts are whole pages. */
const SYSTEM_PAGE = 4 * KiB;

/**
 * Run a cross-field check only when every field it reads parsed cleanly, so
 * one bad value is reported once (as itself) and not again as a conflict.
 */
function whenFieldsValid(...fields: string[]) {
  return (payload: z.core.ParsePayload): boolean =>
    typeof payload.value === 'object'
    && payload.value !== null
    && !payload.issues.some((issue) => issue.path !== undefined && fields.includes(String(issue.path[0])));
}

const slotCount = (what: string) =>
  z.number().int().min(1).max(MAX_SLOTS_LIMIT).describe(`${what} A whole number from 1 to ${MAX_SLOTS_LIMIT}.`);

export const LimitsSchema = z
  .strictObject({
    maxSlots: slotCount(
      'Memories the pool may hold at once, counting leased slots, warm slots (idle, still holding the image of the '
        + 'module they last served) and cold slots (idle, empty).',
    ).default(64),
    maxSlotsPerImage: slotCount(
      'Slots one module image may hold at once, so one busy module cannot take the whole pool. At most maxSlots; '
        + 'when omitted it equals maxSlots.',
    ).optional(),
    maxMemoryBytesPerSlot: byteSize({ min: WASM_PAGE, max: 4 * GiB, multipleOf: WASM_PAGE })
      .prefault('4GiB')
      .describe(
        'A slot\'s maximum memory size, growth included: bytes, or a size such as "4GiB". A multiple of 64KiB '
          + '(the wasm page) from 64KiB to 4GiB.',
      ),
    guardBytes: byteSize({ min: 0, max: 1 * GiB, multipleOf: SYSTEM_PAGE })
      .prefault('2MiB')
      .describe(
        'Inaccessible (PROT_NONE) bytes before and after each raw slot, so a stray access just past either end '
          + 'faults instead of reaching a neighbouring slot. A multiple of 4KiB from 0 to 1GiB.',
      ),
    maxUnusedWarmSlots: z
      .number()
      .int()
      .min(0)
      .max(MAX_SLOTS_LIMIT)
      .default(16)
      .describe(
        'Idle slots allowed to keep the image of the module they last served. While fewer than this many are '
          + 'idle, a module with no idle slot of its own gets a cold (empty) slot; once this many are idle, the '
          + 'least recently used idle slot is taken instead. A whole number from 0.',
      ),
    maxImageBytes: byteSize({ min: 0, max: 4 * GiB })
      .prefault('256MiB')
      .describe(
        'Largest initial memory image the pool writes into a sealed memfd; a module with a larger image is '
          + 'served by the plain path. From 0 to 4GiB.',
      ),
  })
  .refine((limits) => limits.maxSlotsPerImage === undefined || limits.maxSlotsPerImage <= limits.maxSlots, {
    path: ['maxSlotsPerImage'],
    when: whenFieldsValid('maxSlots', 'maxSlotsPerImage'),
    error: (issue) => {
      const limits = issue.input as { maxSlots: number; maxSlotsPerImage: number };
      return `limits.maxSlotsPerImage (${limits.maxSlotsPerImage}) is larger than limits.maxSlots `
        + `(${limits.maxSlots}) — lower limits.maxSlotsPerImage to at most ${limits.maxSlots}, `
        + `or raise limits.maxSlots to at least ${limits.maxSlotsPerImage}`;
    },
  })
  .transform(({ maxSlotsPerImage, ...limits }) => ({ ...limits, maxSlotsPerImage: maxSlotsPerImage ?? limits.maxSlots }))
  .describe('How many memories the pool holds, and how large they may be.');

export const ResetSchema = z
  .strictObject({
    mode: z
      .enum(RESET_MODES)
      .default('auto')
      .describe(
        'How a released slot is cleaned: "madvise" drops every private page (the next tenant faults clean pages '
          + 'back in from the image); "keep-resident" copies the first keepResidentBytes back from the image and '
          + 'drops the rest; "restore-dirty" copies back only the pages the kernel reports written; '
          + '"track-writes" write-protects the slot so exactly the pages written since the last reset are '
          + 'restored; "auto" (the default) measures each module\'s dirty set and runs whichever of these is '
          + 'cheapest for it, never much worse than "madvise". Modes the kernel lacks fall back to the next one.',
      ),
    keepResidentBytes: byteSize({ min: 0, max: 4 * GiB, multipleOf: SYSTEM_PAGE })
      .prefault('1MiB')
      .describe(
        'Bytes at the start of a slot restored by copying instead of dropped, so they stay resident for the next '
          + 'tenant (used by "keep-resident" and "auto"). A multiple of 4KiB, at most maxResidentBytes.',
      ),
    maxResidentBytes: byteSize({ min: 0, max: 4 * GiB, multipleOf: SYSTEM_PAGE })
      .prefault('16MiB')
      .describe(
        'Most private bytes a slot may keep resident between tenants under the copying modes; a slot above it '
          + 'is trimmed with madvise. A multiple of 4KiB.',
      ),
    trimEvery: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .default(1000)
      .describe(
        'Every trimEvery-th reset of a slot drops all its private pages whatever the mode, so pages kept '
          + 'resident do not pile up; 0 never trims.',
      ),
  })
  .refine((reset) => reset.keepResidentBytes <= reset.maxResidentBytes, {
    path: ['keepResidentBytes'],
    when: whenFieldsValid('keepResidentBytes', 'maxResidentBytes'),
    error: (issue) => {
      const reset = issue.input as { keepResidentBytes: number; maxResidentBytes: number };
      return `reset.keepResidentBytes (${reset.keepResidentBytes} bytes) is larger than reset.maxResidentBytes `
        + `(${reset.maxResidentBytes} bytes) — lower reset.keepResidentBytes or raise reset.maxResidentBytes`;
    },
  })
  .describe('How a released slot is made clean for its next tenant.');

export const ExhaustedSchema = z
  .discriminatedUnion('policy', [
    z.strictObject({
      policy: z.literal('throw').describe('Fail at once with POOL_EXHAUSTED.'),
    }),
    z.strictObject({
      policy: z.literal('wait').describe('Wait for a slot to be released, up to timeoutMs.'),
      timeoutMs: z
        .number()
        .int()
        .min(0)
        .max(3_600_000)
        .default(1000)
        .describe('Milliseconds to wait for a slot before failing with POOL_EXHAUSTED; 0 to 3600000.'),
    }),
  ])
  .describe(
    'What acquiring does when every slot is leased or the module holds maxSlotsPerImage slots: {"policy": "throw"} '
      + 'or {"policy": "wait", "timeoutMs": 1000}.',
  );

export const PoolConfigSchema = z
  .strictObject({
    $schema: z
      .string()
      .optional()
      .describe('Path or URL of the JSON Schema for this file, for editors; cowpool ignores it.'),
    strategy: z
      .enum(STRATEGIES)
      .default('cow')
      .describe(
        'How each instance gets its memory: "fresh" lets V8 allocate and initialise it; "copy" takes a pooled '
          + 'memory and copies the data segments in; "cow" maps the module\'s sealed image copy-on-write into a '
          + 'pooled memory; "reuse" keeps one instance and rewinds its memory, globals and tables (fastest, '
          + 'weakest isolation).',
      ),
    limits: LimitsSchema.prefault({}),
    reset: ResetSchema.prefault({}),
    exhausted: ExhaustedSchema.prefault({ policy: 'throw' }),
    lazyTables: z
      .boolean()
      .default(true)
      .describe(
        'Tables made by SlotPool.createTable (runtimes written in JS/TS) are built lazily: an entry is '
          + 'materialised on first read, and resetting a table clears a bitmap instead of rewriting every entry. '
          + 'V8 instances keep V8\'s own tables.',
      ),
  })
  // `$schema` is for editors only; the resolved configuration does not carry it.
  .transform(({ $schema: _editorsOnly, ...config }) => config)
  .describe('cowpool instance pool configuration.');

/** What a user may write: every field optional, byte sizes as numbers or strings. */
export type PoolConfigInput = z.input<typeof PoolConfigSchema>;
/** The resolved configuration: every field present, byte sizes in bytes. */
export type PoolConfig = z.output<typeof PoolConfigSchema>;
export type PoolLimits = PoolConfig['limits'];
export type ResetConfig = PoolConfig['reset'];
export type ExhaustedConfig = PoolConfig['exhausted'];

/**
 * The JSON Schema editors use to complete and check a config file: the input
 * side of the schema (what may be written, with defaults and help text).
 * `config/pool.schema.json` is this, written by `npm run schema`.
 */
export function poolConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PoolConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
