/**
 * The WASI host as host bindings made once per slot (`pool.runWasi`): the
 * pool calls `wasiSlotHost(ctx)` once per slot and links every run's
 * instance to the table it returns; each call reads its run from `ctx.data`
 * (the WasiRun the pool was given for the current tenant).
 *
 *   pool.runWasi ─► new WasiRun(options) ─► instantiate({ data: run }) ─► run.memory = lease.memory
 *     ─► _start ─► run.finish() (output) ─► lease.release()
 */
import { CowpoolError } from '../errors.js';
import type { HostContext } from '../pool/host-context.js';
import type { Lease } from '../pool/lease.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { installWasiRunner } from '../pool/wasi-runner.js';
import type { RunWasiOptions } from './run-wasi.js';
import { runStartOnLease } from './wasi-command.js';
import { wasiImportTable } from './wasi-host.js';
import { resolveWasiOptions } from './wasi-options.js';
import { WasiRun, type WasiResult } from './wasi-run.js';

/** The preview1 imports of one slot; every call serves the run that is `ctx.data`. */
export function wasiSlotHost(ctx: HostContext): WebAssembly.Imports {
  return wasiImportTable((name) => {
    const run = ctx.data;
    if (!(run instanceof WasiRun)) {
      throw new CowpoolError('INVALID_ARGUMENT', `wasi ${name}: this instance was not started by pool.runWasi (its data is not a WASI run)`);
    }
    run.enter(name);
    return run;
  }) as unknown as WebAssembly.Imports;
}

/** One run of a WASI command on a pooled tenant linked to the slot's WASI bindings. */
export function runWasiOnSlot(instantiate: (data: unknown) => Lease, prepared: PreparedModule, options: RunWasiOptions): WasiResult {
  if (options.host !== undefined) {
    throw new CowpoolError('INVALID_ARGUMENT', 'pool.runWasi(): options.host is not used here (the pool makes the WASI host once per slot); pass a host to runWasiInPool instead');
  }
  const run = new WasiRun(resolveWasiOptions(options));
  return runStartOnLease(run, 'pool.runWasi()', prepared.name, () => instantiate(run), () => run.finish());
}

installWasiRunner({ host: wasiSlotHost, run: runWasiOnSlot });
