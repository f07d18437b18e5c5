/**
 * The boundary `pool.runWasi` crosses to reach the WASI host, which lives a
 * layer above the pool (src/host imports src/pool, never the reverse).
 *
 *   src/host/pool-run-wasi.ts ──installWasiRunner(runner)──► here ◄──installedWasiRunner()── pool.runWasi
 *
 * Why an installed runner and not an import: the pool must load without the
 * host (dependencies point one way), and `runWasi` is synchronous, so it
 * cannot load the host lazily with `import()`. The host module installs its
 * runner when it loads; the package entry (src/index.ts) loads it, so
 * every pool made through the package has it. What is installed is code
 * only: the per-slot WASI bindings are the pool's (its slot host bindings),
 * the per-run state is each run's own, and nothing here is shared between
 * pools. Types come from src/host as `import type` (erased at load).
 */
import { CowpoolError } from '../errors.js';
import type { RunWasiOptions } from '../host/run-wasi.js';
import type { WasiResult } from '../host/wasi-run.js';
import type { HostFactory } from './host-context.js';
import type { Lease } from './lease.js';
import type { PreparedModule } from './prepared-module.js';

export interface PoolWasiRunner {
  /** The WASI imports made once per slot; `ctx.data` is the current run. */
  readonly host: HostFactory;
  /** One run: `instantiate(data)` leases a tenant linked to `host` with that data. */
  run(instantiate: (data: unknown) => Lease, prepared: PreparedModule, options: RunWasiOptions): WasiResult;
}

let installed: PoolWasiRunner | null = null;

/** Called once by the WASI host module when it loads; later calls keep the first. */
export function installWasiRunner(runner: PoolWasiRunner): void {
  installed ??= runner;
}

export function installedWasiRunner(): PoolWasiRunner {
  if (installed === null) {
    throw new CowpoolError('INVALID_ARGUMENT', 'pool.runWasi(): the WASI host is not loaded; import the pool from the package entry (`cowpool`), which loads it');
  }
  return installed;
}
