/**
 * Callers waiting for a slot when the pool is exhausted and the configured
 * policy is `wait`. Release wakes the waiters to retry; one that finds no
 * slot before its time runs out fails with POOL_EXHAUSTED.
 *
 * Invariant: every entry in `queue` has a live timer; settling removes it.
 */
import { CowpoolError } from '../errors.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

export class SlotWaiters {
  private readonly queue: Waiter[] = [];

  get length(): number {
    return this.queue.length;
  }

  /** Resolves when a slot may have become free; rejects after `timeoutMs`. */
  wait(timeoutMs: number, describe: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new CowpoolError('POOL_EXHAUSTED', `${describe()}; waited ${timeoutMs} ms without a slot being released`));
        }, timeoutMs),
      };
      this.queue.push(waiter);
    });
  }

  /**
   * Wakes every waiter: each retries, and those that still find no slot wait
   * again. Waking only one would lose the wake-up when that one cannot use
   * the freed slot (e.g. its module is at maxSlotsPerImage) but another could.
   */
  notify(): void {
    // Every release calls this; with nobody waiting it must not allocate.
    if (this.queue.length === 0) return;
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  /** Fails every waiter with `error` (pool closed). */
  rejectAll(error: unknown): void {
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private remove(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i >= 0) this.queue.splice(i, 1);
  }
}

/**
 * Runs `attempt` until it returns non-null; between tries waits on `waiters`
 * until `timeoutMs` has passed in total.
 */
export async function acquireWithin<T>(
  attempt: () => T | null,
  waiters: SlotWaiters,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = attempt();
    if (got !== null) return got;
    const left = deadline - Date.now();
    if (left <= 0) throw new CowpoolError('POOL_EXHAUSTED', `${describe()}; waited ${timeoutMs} ms without a slot being released`);
    await waiters.wait(left, describe);
  }
}
