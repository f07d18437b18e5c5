/**
 * Which reset modes this build can run, asked the way the pool runs them.
 *
 * The configuration may name a mode before the slot layer implements it. Such
 * a mode is left out by the fuzzer (and reported as not run) only when its
 * reset fails with "unknown mode"; any other reset failure means the mode
 * exists and is broken, and the fuzzer must run it and fail loudly.
 */
import { parseConfig } from '../config/load-config.js';
import { RESET_MODES, type ResetMode } from '../config/pool-config-schema.js';
import { InstancePool } from '../pool/instance-pool.js';
import { createAutoResetPolicy } from '../policy/auto-reset-policy.js';
import { PoolResetState, resetV8Memory, SlotResetState } from '../slots/memory-reset.js';
import { thrownDescription } from './run-action.js';
import { emitModule } from './emit-module.js';

export type ModeSupport = { mode: ResetMode; supported: true } | { mode: ResetMode; supported: false; reason: string };

/** A module with a one-page memory and a data segment, so the probe resets a mapped image. */
function probeModule(): Uint8Array {
  return emitModule({
    memory: { minPages: 1, maxPages: null },
    data: [{ mode: 'active', offset: 0, bytes: new Uint8Array([1, 2, 3, 4]) }],
    globals: [],
    tables: [],
    elems: [],
    funcCount: 1,
    start: null,
  });
}

export async function resetModeSupport(mode: ResetMode): Promise<ModeSupport> {
  const pool = new InstancePool({ strategy: 'cow', limits: { maxSlots: 1 }, reset: { mode } });
  try {
    const prepared = await pool.prepare(probeModule(), { name: 'reset-mode probe' });
    for (let i = 0; i < 2; i++) {
      const lease = pool.instantiate(prepared);
      (lease.exports.store8 as (a: number, v: number) => void)(0, 9);
      lease.release();
    }
    if (pool.stats().resetFailures === 0) return { mode, supported: true };
  } finally {
    pool.close();
  }
  // The pool hides why a reset failed; ask the reset function itself.
  try {
    const settings = parseConfig({ reset: { mode } }).reset;
    const slot = new SlotResetState();
    slot.remapped();
    resetV8Memory(new WebAssembly.Memory({ initial: 1 }).buffer, null, settings, { pool: new PoolResetState(createAutoResetPolicy), slot, key: 'probe' });
  } catch (e) {
    const why = thrownDescription(e);
    if (/unknown mode/i.test(why)) return { mode, supported: false, reason: why };
  }
  return { mode, supported: true };
}

export async function resetModesSupport(): Promise<ModeSupport[]> {
  const out: ModeSupport[] = [];
  for (const mode of RESET_MODES) out.push(await resetModeSupport(mode));
  return out;
}
