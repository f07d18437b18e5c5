/**
 * Deliberately broken IsolationHosts, to prove the isolation fuzzer notices
 * the bugs it exists for (a fuzzer that cannot fail proves nothing):
 *
 * - `NoResetHost` keeps one instance per module and hands it to every tenant
 *   without resetting anything (memory, globals, tables, dropped segments).
 * - `UnguardedHost` gives fresh instances but exposes the raw exports, so a
 *   reference kept past release still runs.
 */
import type { FaultSpec, HostedTenant, IsolationHost } from '../../src/fuzz/isolation-host.js';

export class NoResetHost implements IsolationHost {
  readonly name = 'no-reset (broken on purpose)';
  #modules: WebAssembly.Module[] = [];
  readonly #kept = new Map<number, WebAssembly.Instance>();

  async prepare(modules: readonly Uint8Array[]): Promise<void> {
    this.#modules = modules.map((bytes) => new WebAssembly.Module(bytes));
  }

  acquire(module: number): HostedTenant {
    let instance = this.#kept.get(module);
    if (instance === undefined) {
      instance = new WebAssembly.Instance(this.#modules[module] as WebAssembly.Module);
      this.#kept.set(module, instance);
    }
    return { exports: instance.exports as Record<string, unknown>, release: () => undefined, staleUses: [], checkKeptMemory: () => null };
  }

  withFault<T>(_fault: FaultSpec, run: () => T): T {
    return run();
  }

  health(): string | null {
    return null;
  }

  close(): void {
    this.#kept.clear();
  }
}

export class UnguardedHost implements IsolationHost {
  readonly name = 'unguarded (broken on purpose)';
  #modules: WebAssembly.Module[] = [];

  async prepare(modules: readonly Uint8Array[]): Promise<void> {
    this.#modules = modules.map((bytes) => new WebAssembly.Module(bytes));
  }

  acquire(module: number): HostedTenant {
    const instance = new WebAssembly.Instance(this.#modules[module] as WebAssembly.Module);
    const exports = instance.exports as Record<string, unknown>;
    const first = Object.keys(exports).find((k) => typeof exports[k] === 'function') as string;
    return {
      exports,
      release: () => undefined,
      staleUses: [['an export kept past release', () => (exports[first] as (...a: unknown[]) => unknown)(0, 0)]],
      checkKeptMemory: () => null,
    };
  }

  withFault<T>(_fault: FaultSpec, run: () => T): T {
    return run();
  }

  health(): string | null {
    return null;
  }

  close(): void {}
}
