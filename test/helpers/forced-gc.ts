/**
 * Garbage collection on demand inside a test process, for tests of what
 * happens to objects nobody releases (FinalizationRegistry callbacks).
 *
 * `--expose-gc` can be turned on after start-up: V8 reads the flag when a new
 * context is created, so a fresh `vm` context carries a `gc` function. This
 * avoids a child process and works in vitest's forked workers unchanged.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFunction: (() => void) | null = null;

/** The `gc()` function of V8 (full, synchronous collection). */
export function forcedGc(): () => void {
  if (gcFunction !== null) return gcFunction;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc() after --expose-gc was set');
  gcFunction = gc as () => void;
  return gcFunction;
}

/**
 * Collects garbage and lets finalization callbacks run (they are queued as
 * tasks after a collection), until `done()` is true or `rounds` are spent.
 * Returns the last value of `done()`.
 */
export async function collectUntil(done: () => boolean, rounds = 50): Promise<boolean> {
  const gc = forcedGc();
  for (let i = 0; i < rounds && !done(); i++) {
    gc();
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
  return done();
}
