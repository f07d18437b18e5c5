/**
 * What the isolation fuzzer drives: something that serves instances of
 * prepared modules to tenants one after another (a pool under some strategy
 * and reset mode), behind one small interface so the same case runs on every
 * strategy and a deliberately broken host can prove the fuzzer notices leaks.
 */

/** A system call made to fail while one pool operation runs (see the addon's injectFault). */
export interface FaultSpec {
  syscall: 'mmap' | 'madvise';
  /** Successful calls of `syscall` to let through before the failing one. */
  after: number;
}

export interface HostedTenant {
  /** The instance's exports as the tenant sees them (a lease's view for a pool). */
  readonly exports: Record<string, unknown>;
  /** Gives the instance back. Must not throw, even when a fault is injected. */
  release(): void;
  /**
   * Ways a careless host could touch the tenant after release, through
   * references it kept (the lease, its exports view, a function from it).
   * After release each must throw CowpoolError LEASE_RELEASED.
   */
  readonly staleUses: readonly (readonly [what: string, use: () => unknown])[];
  /**
   * Right after a release that succeeded without an injected fault: what a
   * WebAssembly.Memory kept from the tenant shows wrong (the released
   * tenant's writes must already be gone), or null.
   */
  checkKeptMemory(): string | null;
}

export interface IsolationHost {
  /** Target name, as `--target` takes it: `fresh`, `copy`, `cow/madvise`, ... */
  readonly name: string;
  prepare(modules: readonly Uint8Array[]): Promise<void>;
  /** A fresh instance of module `module`; throws what instantiation threw. */
  acquire(module: number): HostedTenant;
  /** Runs `run` with `fault` armed, disarming afterwards; hosts that make no system calls just run it. */
  withFault<T>(fault: FaultSpec, run: () => T): T;
  /** A problem the host sees in itself once a case is over (a reset failed with no fault injected, a lease left active), or null. */
  health(faultsInjected: boolean): string | null;
  close(): void;
}
