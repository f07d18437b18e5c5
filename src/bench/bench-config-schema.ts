/**
 * The bench configuration (`cowpool bench --config FILE`): which strategies,
 * scenarios and modules to measure, for how long, and on how many threads.
 * One zod schema holds names, bounds, defaults and help text, in the style of
 * the pool configuration (src/config/pool-config-schema.ts): every object is
 * strict, so a misspelt key is an error instead of a silently kept default.
 */
import { z } from 'zod';
import { RESET_MODES } from '../config/pool-config-schema.js';

/**
 * What the bench compares: the pool's four strategies plus the raw slot pool
 * (`RawSlotPool`), the memory-only path for runtimes written in JS/TS.
 */
export const BENCH_STRATEGIES = ['fresh', 'copy', 'cow', 'reuse', 'raw'] as const;
export type BenchStrategy = (typeof BENCH_STRATEGIES)[number];

/** What one measured operation does; the names follow wasmtime's published comparison. */
export const BENCH_SCENARIOS = ['call_empty_function', 'dirty_1mb_of_memory', 'instantiate_only'] as const;
export type BenchScenario = (typeof BENCH_SCENARIOS)[number];

/**
 * Modules the bench brings: three generated from code, two taken from the
 * package's devDependencies (skipped with a note when not installed).
 */
export const BUNDLED_MODULES = ['data-1mib', 'sparse-16mib', 'table-20k', 'sql.js', 'quickjs'] as const;
export type BundledModuleName = (typeof BUNDLED_MODULES)[number];

/** Stands for `os.availableParallelism()` in a thread-count list. */
export const CORES = 'cores';

/** A list of distinct values from `choices`, at least one. */
function distinctList<const T extends readonly [string, ...string[]]>(choices: T, what: string) {
  return z
    .array(z.enum(choices))
    .min(1, { error: `list at least one ${what} — choose from ${choices.map((c) => JSON.stringify(c)).join(', ')}` })
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((item, index) => {
        if (seen.has(item)) {
          ctx.addIssue({ code: 'custom', path: [index], input: item, message: `${JSON.stringify(item)} is listed twice — remove the repeat` });
        }
        seen.add(item);
      });
    });
}

/**
 * A module to measure: a bundled name, or a path to a .wasm file (relative
 * paths are read from the directory of the file that lists them).
 */
const ModuleRef = z
  .string()
  .min(1, { error: 'an empty module name — write a bundled module name or the path of a .wasm file' })
  .describe(`A bundled module (${BUNDLED_MODULES.map((m) => JSON.stringify(m)).join(', ')}) or the path of a .wasm file.`);

export const ThreadsSchema = z
  .strictObject({
    counts: z
      .array(z.union([z.number().int().min(1).max(256), z.literal(CORES)], {
        error: (iss) => `expected a thread count from 1 to 256 or "cores", got ${JSON.stringify(iss.input) ?? 'nothing'} — write a whole number or "cores"`,
      }))
      .default([1, 2, 4, CORES])
      .describe(
        'How many worker threads run the scenario at once, one measurement per count. "cores" is the number of '
          + 'cores Node reports; repeats are dropped. An empty list skips the thread section.',
      ),
    module: ModuleRef.optional().describe('The module every thread instantiates. Default: the first of `modules`.'),
    scenario: z.enum(BENCH_SCENARIOS).default('call_empty_function').describe('The operation every thread repeats.'),
    strategies: distinctList(BENCH_STRATEGIES, 'strategy')
      .default(['fresh', 'copy', 'cow', 'reuse'])
      .describe('Strategies measured on threads.'),
    resetMode: z.enum(RESET_MODES).default('madvise').describe('The reset mode of "cow" in the thread section.'),
    timeMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(400)
      .describe('Milliseconds each measurement runs (all threads at once), split over the rounds. From 10 to 60000.'),
    rounds: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('Passes over every strategy × count, interleaved; the round with the median throughput is kept.'),
  })
  .describe('Throughput with several threads instantiating at once, and how it scales against one thread.');

export const LazyTableSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Measure eager against lazy funcref tables.'),
    entries: z.number().int().min(1).max(10_000_000).default(20_000).describe('Entries in the measured table.'),
    rounds: z.number().int().min(1).max(1_000_000).default(200).describe('Acquire + reset rounds per implementation.'),
  })
  .describe('The lazy-table section: acquire + reset of a funcref table built eagerly vs lazily.');

export const WasiBenchSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Measure WASI commands: the WASI host plain and pooled against node:wasi.'),
    rounds: z.number().int().min(1).max(100_000).default(100).describe('Interleaved rounds of 5 runs per subject and module.'),
  })
  .describe('The WASI section: one run of a WASI command (1 MiB data image and small modules), plain, pooled and node:wasi.');

export const GrowthBenchSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Measure WASI runs that grow their memory: plain against pooled cow with growth \'retire\' and \'virtual\'.'),
    rounds: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(60)
      .describe('Interleaved rounds of 5 runs per subject and case; the SQLite case without snapshot runs a fifth as many rounds of 1 run.'),
  })
  .describe('The growth section: WASI runs that grow their memory per request (cgi-grow 1 and 4 MiB, the SQLite endpoint with and without its snapshot), plain, retire and virtual.');

export const BenchConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of a JSON Schema for this file, for editors; cowpool ignores it.'),
    modules: z
      .array(ModuleRef)
      .min(1, { error: 'list at least one module — a bundled name such as "data-1mib" or a path to a .wasm file' })
      .default([...BUNDLED_MODULES])
      .describe('Modules to measure, in order.'),
    strategies: distinctList(BENCH_STRATEGIES, 'strategy')
      .default([...BENCH_STRATEGIES])
      .describe('Strategies to compare. Ratios are against "fresh", so leaving it out leaves the ratios empty.'),
    resetModes: distinctList(RESET_MODES, 'reset mode')
      .default([...RESET_MODES])
      .describe('Reset modes measured for "cow", each as its own row. A mode that fails is reported as unavailable.'),
    scenarios: distinctList(BENCH_SCENARIOS, 'scenario').default([...BENCH_SCENARIOS]).describe('Scenarios to measure.'),
    timeMs: z
      .number()
      .int()
      .min(1)
      .max(600_000)
      .default(350)
      .describe('Milliseconds of measurement per task (module × scenario × strategy). From 1 to 600000.'),
    rounds: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe(
        'Passes over a module\'s tasks; each pass gets timeMs / rounds per task and the samples are pooled, so a '
          + 'machine that slows down during the run slows every strategy alike. From 1 to 100.',
      ),
    warmupMs: z.number().int().min(0).max(60_000).default(60).describe('Milliseconds of warm-up per task before measuring.'),
    minIterations: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(16)
      .describe('Operations measured per task at least, however long they take.'),
    threads: ThreadsSchema.prefault({}),
    lazyTable: LazyTableSchema.prefault({}),
    wasi: WasiBenchSchema.prefault({}),
    growth: GrowthBenchSchema.prefault({}),
  })
  .transform(({ $schema: _editorsOnly, ...config }) => ({
    ...config,
    threads: { ...config.threads, module: config.threads.module ?? (config.modules[0] as string) },
  }))
  .describe('cowpool bench configuration.');

/** What a user may write: every field optional. */
export type BenchConfigInput = z.input<typeof BenchConfigSchema>;
/** The resolved configuration: every field present. */
export type BenchConfig = z.output<typeof BenchConfigSchema>;
export type ThreadsConfig = BenchConfig['threads'];

/**
 * `--quick`: every strategy and scenario on the 1 MiB module, briefly — for
 * checking that the bench runs, not for numbers. A config file given as well
 * overrides any of these fields.
 */
export const QUICK_PRESET: BenchConfigInput = {
  modules: ['data-1mib'],
  timeMs: 25,
  rounds: 1,
  warmupMs: 5,
  minIterations: 4,
  threads: { counts: [1, 2], timeMs: 50, rounds: 1 },
  lazyTable: { rounds: 20 },
  wasi: { rounds: 10 },
  growth: { rounds: 4 },
};
