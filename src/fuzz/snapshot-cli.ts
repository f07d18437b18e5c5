/**
 * `npm run fuzz:snapshot` (node --expose-gc dist/fuzz/snapshot-cli.js): the
 * snapshot differential fuzzer. Each case is a random module with random
 * start, initializer and tenant programs; every target's tenants must equal a
 * plain instance after start and the same initializer. Exit codes: 0 no
 * failure, 1 failures (each with a replay line), 2 bad arguments.
 */
import { randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { CowpoolError, isCowpoolError } from '../errors.js';
import { flagHelp, parseArgs, type FlagSpec } from '../cli/cli-args.js';
import { MAX_SEED, Prng } from './prng.js';
import { generateSnapshotCase } from './snapshot-case.js';
import { runSnapshotCase, SNAPSHOT_TARGETS } from './snapshot-differential.js';
import type { FuzzIo } from './cli.js';

const FLAGS: Record<string, FlagSpec> = {
  seconds: { value: true, placeholder: 'N', description: 'stop starting new cases after N seconds (default 60 unless --cases is given)' },
  cases: { value: true, placeholder: 'N', description: 'stop after N cases' },
  seed: { value: true, placeholder: 'S', description: `first seed, 0..${MAX_SEED} (default: random, printed); case i uses seed S+i` },
  target: { value: true, repeat: true, placeholder: 'NAME', description: `run only this target (repeatable): ${SNAPSHOT_TARGETS.map((t) => t.name).join(', ')}` },
  json: { value: false, description: 'print the summary as JSON' },
  help: { value: false, description: 'show this help' },
};

export interface SnapshotCampaignSummary {
  firstSeed: number;
  cases: number;
  /** Cases whose start or initializer trapped (prepare must fail with INSTANTIATE_FAILED). */
  trappingCases: number;
  tenants: number;
  failures: number;
  elapsedMs: number;
  failureList: { seed: number; target: string; message: string; replay: string }[];
}

function integerFlag(values: string[] | undefined, name: string, min: number, max: number): number | undefined {
  const raw = values?.[0];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CowpoolError('INVALID_ARGUMENT', `fuzz:snapshot: --${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

export async function runSnapshotCampaign(options: { seed: number; cases?: number; seconds?: number; targets?: readonly string[]; onCase?: (s: SnapshotCampaignSummary) => void }): Promise<SnapshotCampaignSummary> {
  const names = options.targets ?? [];
  const unknown = names.filter((n) => !SNAPSHOT_TARGETS.some((t) => t.name === n));
  if (unknown.length > 0) throw new CowpoolError('INVALID_ARGUMENT', `fuzz:snapshot: unknown target ${JSON.stringify(unknown[0])}; targets: ${SNAPSHOT_TARGETS.map((t) => t.name).join(', ')}`);
  const targets = names.length === 0 ? SNAPSHOT_TARGETS : SNAPSHOT_TARGETS.filter((t) => names.includes(t.name));
  const started = Date.now();
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : started + options.seconds * 1000;
  const maxCases = options.cases ?? Number.POSITIVE_INFINITY;
  const gc = (globalThis as { gc?: () => void }).gc;
  const summary: SnapshotCampaignSummary = { firstSeed: options.seed, cases: 0, trappingCases: 0, tenants: 0, failures: 0, elapsedMs: 0, failureList: [] };
  let seed = options.seed;
  while (summary.cases < maxCases && (summary.cases === 0 || Date.now() < deadline) && summary.failures < 10) {
    const c = generateSnapshotCase(seed, new Prng(seed));
    const runs = await runSnapshotCase(c, targets);
    if (runs.every((r) => r.tenants === 0 && r.failure === null)) summary.trappingCases++;
    for (const run of runs) {
      summary.tenants += run.tenants;
      if (run.failure !== null) {
        summary.failures++;
        summary.failureList.push({ seed, target: run.target, message: run.failure, replay: `npm run fuzz:snapshot -- --seed ${seed} --cases 1 --target ${run.target}` });
      }
    }
    summary.cases++;
    if (gc !== undefined && summary.cases % 20 === 0) gc();
    summary.elapsedMs = Date.now() - started;
    options.onCase?.(summary);
    seed = seed === MAX_SEED ? 0 : seed + 1;
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}

const processIo: FuzzIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

export async function main(argv: readonly string[], io: FuzzIo = processIo): Promise<number> {
  let summary: SnapshotCampaignSummary;
  try {
    const { positionals, flags } = parseArgs(argv, FLAGS, 'fuzz');
    if (flags.has('help')) {
      io.stdout(`cowpool snapshot fuzzer — every snapshot tenant must equal a plain instance after start and the same initializer.\n\nUsage:\n  npm run fuzz:snapshot -- [--seconds N] [--cases N] [--seed S] [--target NAME]... [--json]\n\nOptions:\n${flagHelp(FLAGS)}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new CowpoolError('INVALID_ARGUMENT', `fuzz:snapshot: unexpected argument ${JSON.stringify(positionals[0])}`);
    const cases = integerFlag(flags.get('cases'), 'cases', 1, Number.MAX_SAFE_INTEGER);
    const seconds = integerFlag(flags.get('seconds'), 'seconds', 1, 7 * 24 * 3600) ?? (cases === undefined ? 60 : undefined);
    const seed = integerFlag(flags.get('seed'), 'seed', 0, MAX_SEED) ?? randomInt(0, MAX_SEED);
    io.stderr(`fuzz:snapshot: first seed ${seed}\n`);
    let last = Date.now();
    summary = await runSnapshotCampaign({
      seed,
      ...(cases === undefined ? {} : { cases }),
      ...(seconds === undefined ? {} : { seconds }),
      targets: flags.get('target') ?? [],
      onCase: (s) => {
        if (Date.now() - last < 2000) return;
        last = Date.now();
        io.stderr(`fuzz:snapshot: ${s.cases} cases, ${s.tenants} tenants, ${s.failures} failures\n`);
      },
    });
  } catch (e) {
    if (isCowpoolError(e, 'INVALID_ARGUMENT')) {
      io.stderr(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (flagsJson(argv)) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const lines = [
      `cases:    ${summary.cases} (seeds ${summary.firstSeed}..${summary.firstSeed + summary.cases - 1}; ${summary.trappingCases} with a trapping start or initializer)`,
      `tenants:  ${summary.tenants}`,
      `failures: ${summary.failures}`,
      `time:     ${(summary.elapsedMs / 1000).toFixed(1)} s`,
    ];
    for (const f of summary.failureList) lines.push('', `FAIL seed ${f.seed} ${f.target}: ${f.message}`, `  replay: ${f.replay}`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  return summary.failures > 0 ? 1 : 0;
}

function flagsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
