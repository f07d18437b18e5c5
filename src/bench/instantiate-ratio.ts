/**
 * A fresh instance from the pool against a fresh instance from plain V8, for
 * one module, measured side by side in one process: plain
 * `new WebAssembly.Instance` of the original module (compiled once, outside
 * the timing) versus `pool.instantiate(prepared).release()`. Rounds alternate
 * which side goes first, a full garbage collection runs between rounds
 * (outside the timing, so plain V8's dropped memories are not billed to the
 * pool), and the result is the ratio of the medians — never a lone time.
 *
 * Plain V8 allocates and initialises a memory per instance; the memory's
 * later unmapping by the collector is not in its figure, so the ratio errs
 * in plain V8's favour.
 */
import { createPool } from '../pool/instance-pool.js';
import type { PoolConfigInput, Strategy } from '../config/pool-config-schema.js';
import type { PoolFallbackReason } from '../pool/prepared-module.js';
import { prepareLayout } from '../wasm/prepare-layout.js';
import { loadBenchModules, type SkippedModule } from './bench-modules.js';
import { collectGarbage } from './collect-garbage.js';
import { stubImports } from './stub-imports.js';
import { median } from '../util/statistics.js';

export interface InstantiateRatioOptions {
  /** Pool strategy measured against plain V8. Default `cow`. */
  strategy?: Strategy;
  /** Extra pool configuration (limits, reset); `strategy` above wins. */
  config?: PoolConfigInput;
  /** Timed batches per side. Default 40. */
  rounds?: number;
  /** Instances per timed batch. Default 20. */
  batch?: number;
}

export interface InstantiateRatio {
  name: string;
  strategy: Strategy;
  /** False when the module fell back to plain instantiation (then the ratio is about 1 by construction). */
  pooled: boolean;
  fallbackReason: PoolFallbackReason | null;
  rounds: number;
  batch: number;
  /** Median ns per plain `new WebAssembly.Instance`. */
  plainNs: number;
  /** Median ns per pooled instantiate + release. */
  pooledNs: number;
  /** plainNs / pooledNs: how many times faster a pooled fresh instance is. */
  ratio: number;
  /** Whether a full collection ran between rounds (needs `gc`; see collect-garbage). */
  collected: boolean;
}

function timeBatch(batch: number, run: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) run();
  return Number(process.hrtime.bigint() - start) / batch;
}

/** Measures one module; `module.bytes` is a whole .wasm binary. */
export async function measureInstantiateRatio(
  module: { name: string; bytes: Uint8Array },
  options: InstantiateRatioOptions = {},
): Promise<InstantiateRatio> {
  const strategy = options.strategy ?? 'cow';
  const rounds = options.rounds ?? 40;
  const batch = options.batch ?? 20;
  const layout = prepareLayout(module.bytes);
  const plainImports = stubImports(layout, module.name, false);
  const compiled = await WebAssembly.compile(module.bytes);
  const pool = createPool({ ...options.config, strategy });
  try {
    const prepared = await pool.prepare(module.bytes, { name: module.name });
    const pooledImports = stubImports(layout, module.name, prepared.pooled).next().imports;
    const plain = (): void => {
      new WebAssembly.Instance(compiled, plainImports.next().imports);
    };
    const pooled = (): void => {
      pool.instantiate(prepared, pooledImports).release();
    };
    // Warm both paths (compile tiers, first slot, image pages) before timing.
    for (let i = 0; i < batch; i++) {
      plain();
      pooled();
    }
    const plainTimes: number[] = [];
    const pooledTimes: number[] = [];
    let collected = collectGarbage();
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        plainTimes.push(timeBatch(batch, plain));
        pooledTimes.push(timeBatch(batch, pooled));
      } else {
        pooledTimes.push(timeBatch(batch, pooled));
        plainTimes.push(timeBatch(batch, plain));
      }
      collected = collectGarbage() && collected;
    }
    const plainNs = median(plainTimes);
    const pooledNs = median(pooledTimes);
    return {
      name: module.name,
      strategy,
      pooled: prepared.pooled,
      fallbackReason: prepared.fallbackReason,
      rounds,
      batch,
      plainNs,
      pooledNs,
      ratio: plainNs / pooledNs,
      collected,
    };
  } finally {
    pool.close();
  }
}

/**
 * Measures the bench's modules by reference (`data-1mib`, `sql.js`, a path;
 * see bench-modules). Modules that are not installed are returned as skipped.
 */
export async function measureInstantiateRatios(
  refs: readonly string[] = ['data-1mib', 'sql.js'],
  options: InstantiateRatioOptions = {},
): Promise<{ results: InstantiateRatio[]; skipped: SkippedModule[] }> {
  const { modules, skipped } = loadBenchModules(refs);
  const results: InstantiateRatio[] = [];
  for (const module of modules) results.push(await measureInstantiateRatio(module, options));
  return { results, skipped };
}

/** One line per result: `name  strategy  plain µs  pooled µs  ×ratio`. */
export function formatInstantiateRatios(results: readonly InstantiateRatio[]): string {
  const us = (ns: number): string => `${(ns / 1000).toFixed(1)} µs`;
  return results
    .map((r) =>
      `${r.name.padEnd(14)} ${r.strategy.padEnd(6)} plain ${us(r.plainNs).padStart(10)}  pooled ${us(r.pooledNs).padStart(10)}  ` +
      `×${r.ratio.toFixed(1)}${r.pooled ? '' : ` (not pooled: ${r.fallbackReason ?? 'strategy'})`}`)
    .join('\n');
}
