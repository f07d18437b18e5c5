/**
 * Running a WASI command's `_start` against a run, the one place that turns
 * proc_exit into an exit code. Shared by the plain runner, the pooled one
 * and reactor sessions.
 */
import { CowpoolError } from '../errors.js';
import { WasiExit } from './wasi-exit.js';
import type { WasiResult, WasiRun } from './wasi-run.js';

/** The exported memory the host reads and writes (WASI's `memory` export). */
export function exportedMemory(exports: WebAssembly.Exports | Record<string, unknown>): WebAssembly.Memory {
  const memory = exports['memory'];
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new CowpoolError('INVALID_ARGUMENT', 'WASI: the module exports no memory named "memory"; a WASI program must export its memory');
  }
  return memory;
}

/**
 * Calls `entry` (`_start` or `_initialize`) and returns normally when it
 * returns or calls proc_exit; a trap (WebAssembly.RuntimeError) or any other
 * error is thrown unchanged, unless the run had already exited.
 */
export function callEntry(run: WasiRun, exports: WebAssembly.Exports | Record<string, unknown>, name: '_start' | '_initialize', required: boolean): void {
  const entry = exports[name];
  if (typeof entry !== 'function') {
    if (!required) return;
    throw new CowpoolError(
      'INVALID_ARGUMENT',
      `WASI: the module exports no ${name} function; ${name === '_start' ? 'a command exports _start (for a reactor use wasiHost(options) and call its exports)' : ''}`,
    );
  }
  try {
    (entry as () => unknown)();
  } catch (e) {
    // proc_exit unwinds with WasiExit; a guest that caught it and then failed has still exited.
    if (e instanceof WasiExit || run.state === 'exited') return;
    throw e;
  }
}

/**
 * One command run on a pooled tenant: lease it, point the run at its memory,
 * call `_start`, then collect the output (`finish`) and give the slot back —
 * in that order, whatever throws. `who` names the caller in errors.
 */
export function runStartOnLease(
  run: WasiRun,
  who: string,
  moduleName: string,
  lease: () => { readonly memory: WebAssembly.Memory | null; readonly exports: object; release(): void },
  finish: () => WasiResult,
): WasiResult {
  let leased: ReturnType<typeof lease> | null = null;
  let result: WasiResult | undefined;
  try {
    leased = lease();
    const memory = leased.memory;
    if (memory === null) throw new CowpoolError('INVALID_ARGUMENT', `${who}: ${moduleName} has no memory; a WASI program exports one`);
    run.memory = memory;
    callEntry(run, leased.exports as Record<string, unknown>, '_start', true);
  } finally {
    try {
      result = finish();
    } finally {
      leased?.release();
    }
  }
  return result;
}
