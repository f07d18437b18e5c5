/**
 * `npm run fuzz` (node --expose-gc dist/fuzz/cli.js): the isolation fuzzer
 * for long runs. Progress goes to stderr, the summary to stdout. Exit codes:
 * 0 no failure, 1 failures found (each printed with a one-line replay), 2 bad
 * arguments.
 */
import { randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { CowpoolError, isCowpoolError } from '../errors.js';
import { flagHelp, parseArgs, type FlagSpec } from '../cli/cli-args.js';
import { hasTestHooks } from '../native/addon.js';
import { runCampaign, type CampaignSummary } from './isolation-campaign.js';
import { MAX_SEED } from './prng.js';

const FLAGS: Record<string, FlagSpec> = {
  seconds: { value: true, placeholder: 'N', description: 'stop starting new cases after N seconds (default 60 unless --cases is given)' },
  cases: { value: true, placeholder: 'N', description: 'stop after N cases' },
  seed: { value: true, placeholder: 'S', description: `first seed, 0..${MAX_SEED} (default: random, printed); case i uses seed S+i` },
  target: {
    value: true,
    repeat: true,
    placeholder: 'NAME',
    description: 'run only this target (repeatable): fresh, copy, cow/<reset mode>, reuse/<reset mode>, cow-virtual/<reset mode>, reuse-virtual/<reset mode>, raw/<reset mode>',
  },
  'no-faults': { value: false, description: 'do not inject system call failures' },
  'max-failures': { value: true, placeholder: 'N', description: 'stop after N failures (default 10)' },
  json: { value: false, description: 'print the summary as JSON' },
  help: { value: false, description: 'show this help' },
};

const HELP = `cowpool isolation fuzzer — every tenant of a pooled instance must see exactly
what a fresh V8 instance of the same module sees.

Usage:
  npm run fuzz -- [--seconds N] [--cases N] [--seed S] [--target NAME]... [--no-faults] [--json]

Each case generates a few modules (memories of 0+ pages, overlapping and
passive data segments, mutable globals, tables with elements, start functions)
and a script of tenants (writes, memory.grow, traps mid-write, data.drop,
memory.init, table.set, global.set, references kept past release, injected
mmap/madvise failures), and runs it on every target side by side with plain V8.
Pool targets then run the seed's re-entrant tenants: host imports that release
the running lease, instantiate, call back in or close the pool mid-run.
reuse/<mode> targets hold the kept instance to the same rule: the next tenant
must equal a fresh instance. cow-virtual/<mode> and reuse-virtual/<mode> prepare
with growth 'virtual': a tenant that grew leaves its slot, and the next one
must still see the initial size, zeros and traps past it.
A failure prints the seed and a one-line command that replays it.

Options:
${flagHelp(FLAGS)}
`;

export interface FuzzIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: FuzzIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

function integerFlag(values: string[] | undefined, name: string, min: number, max: number): number | undefined {
  const raw = values?.[0];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CowpoolError('INVALID_ARGUMENT', `fuzz: --${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

function summaryText(s: CampaignSummary): string {
  const lines = [
    `cases:    ${s.cases} (seeds ${s.firstSeed}..${s.lastSeed})`,
    `tenants:  ${s.tenants} (${Object.entries(s.tenantsByTarget).map(([t, n]) => `${t} ${n}`).join(', ')})`,
    `failures: ${s.failures}`,
    `time:     ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  for (const gap of s.unavailable) lines.push(`not run:  ${gap.name}: ${gap.reason}`);
  for (const f of s.failureList) lines.push('', `FAIL ${f.message}`, `  replay: ${f.replay}`);
  return `${lines.join('\n')}\n`;
}

/** True when the addon loads and is the production build (no fault injection). */
function productionAddon(): boolean {
  try {
    return !hasTestHooks();
  } catch {
    return false; // no addon at all: the campaign lists the targets it could not run
  }
}

export async function main(argv: readonly string[], io: FuzzIo = processIo): Promise<number> {
  let summary: CampaignSummary;
  try {
    const { positionals, flags } = parseArgs(argv, FLAGS, 'fuzz');
    if (flags.has('help')) {
      io.stdout(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new CowpoolError('INVALID_ARGUMENT', `fuzz: unexpected argument ${JSON.stringify(positionals[0])}; see --help`);
    const cases = integerFlag(flags.get('cases'), 'cases', 1, Number.MAX_SAFE_INTEGER);
    const seconds = integerFlag(flags.get('seconds'), 'seconds', 1, 7 * 24 * 3600) ?? (cases === undefined ? 60 : undefined);
    const seed = integerFlag(flags.get('seed'), 'seed', 0, MAX_SEED) ?? randomInt(0, MAX_SEED);
    const maxFailures = integerFlag(flags.get('max-failures'), 'max-failures', 1, 1_000_000) ?? 10;
    if ((globalThis as { gc?: unknown }).gc === undefined) {
      io.stderr('fuzz: running without --expose-gc; long runs may hold many pooled memories until V8 collects them\n');
    }
    let faults = !flags.has('no-faults');
    if (faults && productionAddon()) {
      // Injecting failures needs the test build of the addon; users have the production one.
      io.stderr('fuzz: no system call faults: the production addon has no fault injection (COWPOOL_NATIVE_BUILD=test loads the test build `npm test` makes)\n');
      faults = false;
    }
    io.stderr(`fuzz: first seed ${seed}${seconds === undefined ? '' : `, ${seconds} s`}${cases === undefined ? '' : `, ${cases} case(s)`}\n`);
    let lastReport = Date.now();
    summary = await runCampaign({
      seed,
      ...(cases === undefined ? {} : { cases }),
      ...(seconds === undefined ? {} : { seconds }),
      targets: flags.get('target') ?? [],
      faults,
      maxFailures,
      onProgress: (p) => {
        if (Date.now() - lastReport < 1000) return;
        lastReport = Date.now();
        io.stderr(`fuzz: ${p.cases} cases, ${p.tenants} tenants, ${p.failures} failures, ${(p.elapsedMs / 1000).toFixed(1)} s (seed ${p.lastSeed})\n`);
      },
    });
    io.stdout(flags.has('json') ? `${JSON.stringify(summary, null, 2)}\n` : summaryText(summary));
  } catch (e) {
    if (isCowpoolError(e, 'INVALID_ARGUMENT')) {
      // The shared argument parser names the `cowpool` command; this one is run through npm.
      io.stderr(`${e.message.replace('`cowpool fuzz --help`', '`npm run fuzz -- --help`')}\n`);
      return 2;
    }
    throw e;
  }
  return summary.failures > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
