/**
 * A fuzz campaign: consecutive seeds from a first seed, each case run on every
 * selected target, until a case count or a time budget is reached.
 *
 *   seed S, S+1, S+2, ... ──generateCase──► case ──runTarget × targets──► HostRun
 *
 * The campaign is deterministic given its first seed and case count; a time
 * budget only decides how many cases run.
 */
import { generateCase } from './isolation-case.js';
import { isolationTargets, runTarget, selectTargets, type UnavailableTarget } from './isolation-targets.js';
import { MAX_SEED } from './prng.js';
import { generateRawCase } from './raw-slot-differential.js';
import type { IsolationFailure } from './run-isolation-case.js';

export interface CampaignOptions {
  /** First seed; default 1. */
  seed?: number;
  /** Stop after this many cases. */
  cases?: number;
  /** Stop starting new cases after this many seconds. */
  seconds?: number;
  /** Target names (`fresh`, `copy`, `cow/<mode>`, `raw/<mode>`); all when empty. */
  targets?: readonly string[];
  /** Inject system call failures in some tenants (default true). */
  faults?: boolean;
  /** Stop once this many failures were found (default 10). */
  maxFailures?: number;
  /** Called after every case. */
  onProgress?: (progress: CampaignProgress) => void;
}

export interface CampaignProgress {
  cases: number;
  tenants: number;
  failures: number;
  elapsedMs: number;
  lastSeed: number;
}

export interface CampaignSummary extends CampaignProgress {
  firstSeed: number;
  targets: string[];
  unavailable: UnavailableTarget[];
  /** Tenants run per target. */
  tenantsByTarget: Record<string, number>;
  failureList: IsolationFailure[];
}

export async function runCampaign(options: CampaignOptions = {}): Promise<CampaignSummary> {
  const firstSeed = options.seed ?? 1;
  const maxCases = options.cases ?? Number.POSITIVE_INFINITY;
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.seconds * 1000;
  const maxFailures = options.maxFailures ?? 10;
  const { targets: all, unavailable } = await isolationTargets();
  const targets = selectTargets(all, unavailable, options.targets ?? []);
  const started = Date.now();
  const tenantsByTarget: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, 0]));
  const failureList: IsolationFailure[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  let cases = 0;
  let tenants = 0;
  let seed = firstSeed;
  while (cases < maxCases && (cases === 0 || Date.now() < deadline) && failureList.length < maxFailures) {
    const faults = options.faults ?? true;
    const poolCase = generateCase(seed, { faults });
    const rawCase = generateRawCase(seed, { faults });
    for (const target of targets) {
      const run = await runTarget(target, poolCase, rawCase);
      tenants += run.tenants;
      tenantsByTarget[target.name] = (tenantsByTarget[target.name] ?? 0) + run.tenants;
      if (run.failure !== null) failureList.push(run.failure);
    }
    cases++;
    // Every pooled memory reserves 10 GiB of address space until collected; keep the count low on long runs.
    if (gc !== undefined && cases % 25 === 0) gc();
    // Finalizers of collected buffers (which unmap quarantined raw slots) run as immediates.
    if (cases % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
    options.onProgress?.({ cases, tenants, failures: failureList.length, elapsedMs: Date.now() - started, lastSeed: seed });
    seed = seed === MAX_SEED ? 0 : seed + 1;
  }
  return {
    firstSeed,
    cases,
    tenants,
    failures: failureList.length,
    elapsedMs: Date.now() - started,
    lastSeed: (seed === 0 ? MAX_SEED : seed - 1),
    targets: targets.map((t) => t.name),
    unavailable,
    tenantsByTarget,
    failureList,
  };
}
