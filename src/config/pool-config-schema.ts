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

/** Limits both pools share. */
const sharedLimitFields = {
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
};

/** Raw slots only: the addon reserves their address range itself, guards included. */
export const guardBytesField = byteSize({ min: 0, max: 1 * GiB, multipleOf: SYSTEM_PAGE })
  .prefault('2MiB')
  .describe(
    'Inaccessible (PROT_NONE) bytes before and after each raw slot, so a stray access just past either end '
      + 'faults instead of reaching a neighbouring slot. A multiple of 4KiB from 0 to 1GiB.',
  );

/** maxSlotsPerImage ≤ maxSlots, then maxSlotsPerImage resolved (it defaults to maxSlots). */
function slotLimits<T extends z.core.$ZodLooseShape>(shape: T) {
  return z
    .strictObject(shape)
    .refine(
      (limits) => {
        const l = limits as { maxSlots: number; maxSlotsPerImage?: number };
        return l.maxSlotsPerImage === undefined || l.maxSlotsPerImage <= l.maxSlots;
      },
      {
        path: ['maxSlotsPerImage'],
        when: whenFieldsValid('maxSlots', 'maxSlotsPerImage'),
        error: (issue) => {
          const limits = issue.input as { maxSlots: number; maxSlotsPerImage: number };
          return `limits.maxSlotsPerImage (${limits.maxSlotsPerImage}) is larger than limits.maxSlots `
            + `(${limits.maxSlots}) — lower limits.maxSlotsPerImage to at most ${limits.maxSlots}, `
            + `or raise limits.maxSlots to at least ${limits.maxSlotsPerImage}`;
        },
      },
    )
    .transform((limits) => {
      const { maxSlotsPerImage, ...rest } = limits as typeof limits & { maxSlots: number; maxSlotsPerImage?: number };
      return { ...rest, maxSlotsPerImage: maxSlotsPerImage ?? rest.maxSlots };
    });
}

/** The instance pool's limits (V8 owns each memory's reservation and guards). */
export const LimitsSchema = slotLimits(sharedLimitFields).describe('How many memories the pool holds, and how large they may be.');

/** The raw slot pool's limits: the instance pool's plus the guards the addon reserves around each slot. */
export const RawSlotLimitsSchema = slotLimits({ ...sharedLimitFields, guardBytes: guardBytesField }).describe(
  'How many raw slots the pool holds, how large they may be, and the guard regions around each.',
);

/** keepResidentBytes when the configuration leaves it out (capped by maxResidentBytes). */
export const DEFAULT_KEEP_RESIDENT_BYTES = 1 * MiB;
/** The modes that read keepResidentBytes. */
const KEEP_RESIDENT_USERS: ReadonlySet<string> = new Set<ResetMode>(['keep-resident', 'auto']);

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
      .optional()
      .describe(
        'Bytes at the start of a slot restored by copying instead of dropped, so they stay resident for the next '
          + 'tenant (used by "keep-resident" and "auto"). A multiple of 4KiB, at most maxResidentBytes. Default: '
          + '1MiB, or maxResidentBytes when that is smaller.',
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
  // Checked only where keepResidentBytes is used and was written: a
  // track-writes pool with a small maxResidentBytes must not fail on a
  // keep-resident default the user never set.
  .refine(
    (reset) => reset.keepResidentBytes === undefined
      || !KEEP_RESIDENT_USERS.has(reset.mode)
      || reset.keepResidentBytes <= reset.maxResidentBytes,
    {
      path: ['keepResidentBytes'],
      when: whenFieldsValid('mode', 'keepResidentBytes', 'maxResidentBytes'),
      error: (issue) => {
        const reset = issue.input as { mode: string; keepResidentBytes: number; maxResidentBytes: number };
        return `reset.keepResidentBytes (${reset.keepResidentBytes} bytes) is larger than reset.maxResidentBytes `
          + `(${reset.maxResidentBytes} bytes), which mode "${reset.mode}" cannot honour — lower `
          + 'reset.keepResidentBytes or raise reset.maxResidentBytes';
      },
    },
  )
  .transform(({ keepResidentBytes, ...reset }) => ({
    ...reset,
    keepResidentBytes: keepResidentBytes ?? Math.min(DEFAULT_KEEP_RESIDENT_BYTES, reset.maxResidentBytes),
  }))
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

const schemaField = z
  .string()
  .optional()
  .describe('Path or URL of the JSON Schema for this file, for editors; cowpool ignores it.');

const strategyField = z
  .enum(STRATEGIES)
  .default('cow')
  .describe(
    'How each instance gets its memory: "fresh" lets V8 allocate and initialise it; "copy" takes a pooled '
      + 'memory and copies the data segments in; "cow" maps the module\'s sealed image copy-on-write into a '
      + 'pooled memory; "reuse" keeps one instance and rewinds its memory, globals and tables (fastest, '
      + 'weakest isolation).',
  );

export const GROWTH_MODES = ['auto', 'virtual', 'retire'] as const;

const growthField = z
  .enum(GROWTH_MODES)
  .default('auto')
  .describe(
    'What a tenant that grows its memory costs its slot (cow and reuse): "virtual" keeps the memory\'s size in '
      + 'a global of the module, so the slot goes back to the initial size on release (grown pages zeroed, '
      + 'PROT_NONE) and stays pooled; "retire" replaces a memory that grew; "auto" is "virtual" for WASI modules '
      + 'and modules prepared with host bindings, "retire" for the rest (glue such as Emscripten\'s reads the raw '
      + 'memory). prepare(bytes, { growth }) overrides it per module.',
  );

/** The instance pool's configuration (`createPool`, `config/pool.json`). */
export const PoolConfigSchema = z
  .strictObject({
    $schema: schemaField,
    strategy: strategyField,
    growth: growthField,
    limits: LimitsSchema.prefault({}),
    reset: ResetSchema.prefault({}),
    exhausted: ExhaustedSchema.prefault({ policy: 'throw' }),
  })
  // `$schema` is for editors only; the resolved configuration does not carry it.
  .transform(({ $schema: _editorsOnly, ...config }) => config)
  .describe('cowpool instance pool configuration (createPool).');

/** The raw slot pool's configuration (`RawSlotPool`, formerly `SlotPool`; `config/raw-slot-pool.json`). */
export const RawSlotPoolConfigSchema = z
  .strictObject({
    $schema: schemaField,
    limits: RawSlotLimitsSchema.prefault({}),
    reset: ResetSchema.prefault({}),
    exhausted: ExhaustedSchema.prefault({ policy: 'throw' }),
    lazyTables: z
      .boolean()
      .default(true)
      .describe(
        'Tables made by createTable are built lazily: an entry is materialised on first read, and resetting a '
          + 'table clears a bitmap instead of rewriting every entry.',
      ),
  })
  .transform(({ $schema: _editorsOnly, ...config }) => config)
  .describe('cowpool raw slot pool configuration (RawSlotPool, for runtimes written in JS/TS).');

/** What a user may write: every field optional, byte sizes as numbers or strings. */
export type PoolConfigInput = z.input<typeof PoolConfigSchema>;
/** The resolved configuration: every field present, byte sizes in bytes. */
export type PoolConfig = z.output<typeof PoolConfigSchema>;
export type RawSlotPoolConfigInput = z.input<typeof RawSlotPoolConfigSchema>;
export type RawSlotPoolConfig = z.output<typeof RawSlotPoolConfigSchema>;
export type PoolLimits = PoolConfig['limits'];
export type RawSlotLimits = RawSlotPoolConfig['limits'];
export type ResetConfig = PoolConfig['reset'];
export type ExhaustedConfig = PoolConfig['exhausted'];

/**
 * The JSON Schemas editors use to complete and check config files: the input
 * side of each schema (what may be written, with defaults and help text).
 * `config/pool.schema.json` and `config/raw-slot-pool.schema.json` are these,
 * written by `npm run schema`.
 */
export function poolConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PoolConfigSchema, { io: 'input' }) as Record<string, unknown>;
}

export function rawSlotPoolConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RawSlotPoolConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
