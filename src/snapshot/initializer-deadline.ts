/**
 * Running start and initializer code under a deadline. Synchronous code
 * (a wasm loop included) is interrupted by running the call inside
 * `vm.Script#runInContext({ timeout })`, whose watchdog terminates execution
 * in any context; a returned promise is raced against what is left of the
 * deadline. Code that blocks the thread after its first await cannot be
 * interrupted — the deadline then only reports it once it yields.
 */
import vm from 'node:vm';

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

const script = new vm.Script('call()', { filename: 'cowpool-initializer' });

/** Calls `fn` synchronously, throwing DeadlineExceeded if it runs past `timeoutMs`. */
export function callWithin<T>(fn: () => T, timeoutMs: number): T {
  const sandbox = vm.createContext({ call: fn });
  const started = performance.now();
  try {
    return script.runInContext(sandbox, { timeout: timeoutMs }) as T;
  } catch (e) {
    // The watchdog's termination normally surfaces as ERR_SCRIPT_EXECUTION_TIMEOUT; whatever
    // else a call that ran past its deadline threw is reported as the deadline too.
    if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' || performance.now() - started >= timeoutMs) {
      throw new DeadlineExceeded(`did not return within ${timeoutMs} ms`, { cause: e });
    }
    throw e;
  }
}

/** Awaits `value` if it is a thenable, throwing DeadlineExceeded once `deadline` (a performance.now() time) passes. */
export async function settleBefore(value: unknown, deadline: number, timeoutMs: number): Promise<unknown> {
  if (typeof (value as { then?: unknown } | null)?.then !== 'function') return value;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`did not settle within ${timeoutMs} ms`)), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([value as Promise<unknown>, expired]);
  } finally {
    clearTimeout(timer);
  }
}
