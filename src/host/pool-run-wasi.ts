/**
 * `pool.runWasi(prepared, options)`: a WASI command on a fresh pooled
 * instance, through the pool's public API only:
 *
 *   host.begin(options) ─► pool.instantiate(prepared, host.imports) ─► run.memory = lease.memory
 *     ─► _start ─► host.end() (output) ─► lease.release() (slot reset as usual)
 *
 * A trap is thrown as V8's WebAssembly.RuntimeError after the slot was given
 * back. Pass the same `host` to every run (one run at a time per host) and
 * every tenant is linked to the same import functions, which the `reuse`
 * strategy needs to keep an instance.
 */
import type { Imports } from '../pool/instance-pool.js';
import type { Lease } from '../pool/lease.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { CowpoolError } from '../errors.js';
import type { RunWasiOptions } from './run-wasi.js';
import { runStartOnLease } from './wasi-command.js';
import { WasiHost } from './wasi-host.js';
import type { WasiResult } from './wasi-run.js';

/** What runWasiInPool needs of a pool. */
export interface WasiPool {
  instantiate(prepared: PreparedModule, imports?: Imports): Lease;
}

export function runWasiInPool(pool: WasiPool, prepared: PreparedModule, options: RunWasiOptions = {}): WasiResult {
  if (prepared.host !== null) {
    // Its tenants link the slot's host bindings, and instantiate() would read the WASI imports as `{ data }`.
    throw new CowpoolError('INVALID_ARGUMENT', `runWasiInPool: ${prepared.name} was prepared with \`host\` bindings; run it with pool.runWasi(prepared, options)`);
  }
  const host = options.host ?? new WasiHost();
  const run = host.begin(options);
  return runStartOnLease(run, 'runWasiInPool', prepared.name, () => pool.instantiate(prepared, host.imports as unknown as Imports), () => host.end());
}
