/**
 * `cowpool bench [module.wasm ...]`: compares the allocation strategies on
 * bundled modules or the user's own, prints a table, and writes JSON, SVG
 * and Markdown when asked. Output paths are checked before the run starts,
 * so a typo in `--out` does not throw away two minutes of measuring.
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CowpoolError } from '../errors.js';
import { BENCH_SCENARIOS, BENCH_STRATEGIES, BUNDLED_MODULES } from '../bench/bench-config-schema.js';
import { RESET_MODES } from '../config/pool-config-schema.js';
import { resolveBenchConfig } from '../bench/load-bench-config.js';
import { ProgressReporter } from '../bench/progress-reporter.js';
import { formatBenchMarkdown } from '../bench/report-markdown.js';
import { renderBenchSvg } from '../bench/report-svg.js';
import { formatBenchTable } from '../bench/report-table.js';
import { runBench } from '../bench/run-bench.js';
import { benchServeCommand } from './bench-serve-command.js';
import { formatSnapshotSection, measureSnapshotSection } from '../bench/snapshot-section.js';
import { flagHelp, parseArgs, type FlagSpec } from './cli-args.js';
import type { CliIo } from './cli-io.js';

export const BENCH_FLAGS: Record<string, FlagSpec> = {
  quick: { value: false, description: 'a tiny run (one module, a few milliseconds per task) to check that everything works' },
  config: { value: true, placeholder: 'FILE', description: 'JSON file choosing strategies, modules, threads, time per task (fields below)' },
  json: { value: true, placeholder: 'FILE', description: 'write the raw results as JSON' },
  svg: { value: true, placeholder: 'FILE', description: 'write a chart (grouped bars, log scale) as SVG' },
  out: { value: true, placeholder: 'PREFIX', description: 'write PREFIX.json, PREFIX.svg and PREFIX.md' },
  snapshots: { value: false, description: 'run only the snapshots section: plain instantiate + init vs snapshot tenants, Wizer, QuickJS, sql.js (--json writes its results)' },
  help: { value: false, description: 'show this help' },
};

const list = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(', ');

export const BENCH_HELP = `Usage: cowpool bench [module.wasm ...] [options]
       cowpool bench serve [handler.wasm] [options]   (HTTP: see cowpool bench serve --help)

Compares how fast each strategy gives out a fresh instance, side by side in
one run: fresh (plain V8), copy, cow (once per reset mode), reuse, and the raw
slot pool (memory only, for runtimes written in JS). Ratios are against fresh
measured in the same run. Without module paths it measures the bundled modules
  ${list(BUNDLED_MODULES)};
paths given here replace them.

Options:
${flagHelp(BENCH_FLAGS)}

Configuration file (every field optional; defaults in brackets):
  modules        bundled names or .wasm paths, relative to the file  [all bundled]
  strategies     from ${list(BENCH_STRATEGIES)}  [all]
  resetModes     reset modes measured for cow, from ${list(RESET_MODES)}  [all]
  scenarios      from ${list(BENCH_SCENARIOS)}  [all]
  timeMs         measuring time per task in ms  [350]
  rounds         passes over the tasks, timeMs split between them  [3]
  warmupMs       warm-up per task in ms  [60]
  minIterations  operations per task at least  [16]
  threads        {"counts": [1, 2, 4, "cores"], "module": (the first of modules),
                  "scenario": "call_empty_function", "strategies": ["fresh", "copy", "cow", "reuse"],
                  "resetMode": "madvise", "timeMs": 400, "rounds": 3}; "counts": [] skips threads
  lazyTable      {"enabled": true, "entries": 20000, "rounds": 200}
  wasi           {"enabled": true, "rounds": 100}: WASI commands plain, pooled and node:wasi
  growth         {"enabled": true, "rounds": 60}: WASI runs that grow their memory, plain
                  and pooled cow with growth "retire" and "virtual"
--quick sets modules ["data-1mib"], short times and threads [1, 2]; a config
file given too overrides whole top-level fields.

Exit codes: 0 done; 2 bad arguments, configuration or module.
`;

/** Creates the directory of every output file and checks it is writable, before the run. */
function checkWritable(paths: readonly string[]): void {
  for (const path of paths) {
    const dir = dirname(resolve(path));
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'error';
      throw new CowpoolError('BENCH_INPUT', `bench: cannot write ${path} (${code} on ${dir}) — choose a writable path`, { cause });
    }
  }
}

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new CowpoolError('BENCH_INPUT', `bench: cannot write ${path} (${code}) — choose a writable path`, { cause });
  }
}

export interface BenchCommandEnv {
  /** stderr is a terminal: draw a progress bar instead of one line per task. */
  stderrIsTTY: boolean;
  columns?: number;
}

export async function benchCommand(argv: readonly string[], io: CliIo, env: BenchCommandEnv = { stderrIsTTY: false }): Promise<number> {
  if (argv[0] === 'serve') return benchServeCommand(argv.slice(1), io);
  const args = parseArgs(argv, BENCH_FLAGS, 'bench');
  if (args.flags.has('help')) {
    io.stdout(BENCH_HELP);
    return 0;
  }
  const value = (name: string) => args.flags.get(name)?.[0];
  if (args.flags.has('snapshots')) {
    const json = value('json') ?? (value('out') === undefined ? undefined : `${value('out')}-snapshots.json`);
    if (json !== undefined) checkWritable([json]);
    const section = await measureSnapshotSection(args.flags.has('quick') ? { samples: 8, rounds: 2, warmup: 2 } : {});
    io.stdout(formatSnapshotSection(section));
    if (json !== undefined) {
      write(json, `${JSON.stringify(section, null, 2)}\n`);
      io.stderr(`bench: wrote ${json}\n`);
    }
    return 0;
  }
  const config = resolveBenchConfig({
    quick: args.flags.has('quick'),
    ...(value('config') === undefined ? {} : { file: value('config') }),
    modules: args.positionals,
  });
  const out = value('out');
  const targets = {
    json: value('json') ?? (out === undefined ? undefined : `${out}.json`),
    svg: value('svg') ?? (out === undefined ? undefined : `${out}.svg`),
    md: out === undefined ? undefined : `${out}.md`,
  };
  const paths = Object.values(targets).filter((p): p is string => p !== undefined);
  checkWritable(paths);

  const progress = new ProgressReporter({ write: io.stderr, isTTY: env.stderrIsTTY, ...(env.columns === undefined ? {} : { columns: env.columns }) });
  const report = await runBench(config, { progress });
  io.stdout(formatBenchTable(report));
  if (targets.json !== undefined) write(targets.json, `${JSON.stringify(report, null, 2)}\n`);
  if (targets.svg !== undefined) write(targets.svg, renderBenchSvg(report));
  if (targets.md !== undefined) write(targets.md, formatBenchMarkdown(report));
  if (paths.length > 0) io.stderr(`bench: wrote ${paths.join(', ')}\n`);
  return 0;
}
