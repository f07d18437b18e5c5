/**
 * A full garbage collection between bench tasks, so the memories one task
 * dropped (every `fresh` instance leaves a 10 GiB reservation for the GC to
 * unmap) are not collected — and timed — inside the next task.
 *
 * Node exposes `gc` only with --expose-gc. Setting the flag at run time and
 * reading `gc` from a new context is the documented V8 way to get it later;
 * when even that is refused, collecting is skipped and the run says so.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = () => void;

let cached: GcFunction | null | undefined;

function findGc(): GcFunction | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as GcFunction;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    return null;
  }
}

/** Runs a full collection; false when no collector function could be obtained. */
export function collectGarbage(): boolean {
  if (cached === undefined) cached = findGc();
  if (cached === null) return false;
  cached();
  return true;
}
