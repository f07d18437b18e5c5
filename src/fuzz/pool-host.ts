/**
 * An InstancePool as an IsolationHost: one pool per target and case, leases
 * as tenants, faults injected through the addon's test hook.
 *
 *   prepare(modules) ──► #prepared[i] ──acquire(i)──► Lease (as a HostedTenant) ──release()──► pool
 *
 * Invariant: `#prepared[i]` was prepared by `#pool` from the case's module i.
 * Invariant: `#images[i]` is module i's initial memory bytes, laid out here
 *            from its binary (a prepared module keeps no JS copy of them).
 * Invariant: an armed fault never outlives withFault (disarmed in `finally`).
 */
import type { PoolConfigInput } from '../config/pool-config-schema.js';
import { addon } from '../native/addon.js';
import { InstancePool } from '../pool/instance-pool.js';
import type { Lease } from '../pool/lease.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import { VirtualMemory } from '../pool/virtual-memory.js';
import { prepareLayout } from '../wasm/prepare-layout.js';
import type { FaultSpec, HostedTenant, IsolationHost } from './isolation-host.js';

function staleUses(lease: Lease): [string, () => unknown][] {
  const view = lease.exports;
  const exported = lease.prepared.layout.exports;
  const names = exported.map((e) => e.name);
  const uses: [string, () => unknown][] = [
    ['lease.exports', () => lease.exports],
    ['lease.memory', () => lease.memory],
    ['lease.instance', () => lease.instance],
    ['lease.release()', () => lease.release()],
  ];
  // A function that writes, when there is one: should the guard fail, the write shows in the next tenant.
  const fnName = names.includes('store8') ? 'store8' : exported.find((e) => e.kind === 'function')?.name;
  if (fnName !== undefined) {
    // Taken while active, as a careless host would keep it; the call after release must throw.
    const fn = view[fnName] as (...args: unknown[]) => unknown;
    uses.push([`exports.${fnName}() kept from the released lease`, () => fn(0, 0xab, 1)]);
  }
  const valueName = exported.find((e) => e.kind !== 'function')?.name;
  if (valueName !== undefined) uses.push([`exports.${valueName} read through the released lease's view`, () => view[valueName]]);
  return uses;
}

/**
 * What a Memory kept past release must show at once: a pooled memory is reset
 * before release() returns — cow maps the image back, copy zeroes it — unless
 * it grew, in which case it was retired and is never used again. A plain
 * instance's memory is its own; nothing to check.
 */
function keptMemoryCheck(prepared: PreparedModule, imageBytes: Uint8Array, memory: WebAssembly.Memory | null): () => string | null {
  if (!prepared.pooled || memory === null) return () => null;
  if (memory instanceof VirtualMemory) {
    // A view of a virtually sized memory dies with its lease.
    return () => {
      try {
        return `a memory view kept past release still reads (${memory.buffer.byteLength} bytes): it must throw LEASE_RELEASED`;
      } catch (e) {
        return (e as { code?: string }).code === 'LEASE_RELEASED' ? null : `a memory view kept past release threw ${String(e)}, not LEASE_RELEASED`;
      }
    };
  }
  const image = prepared.cow ? imageBytes : new Uint8Array(0);
  const initialBytes = (prepared.shape?.initialPages ?? 0) * 65536;
  return () => {
    const view = new Uint8Array(memory.buffer);
    if (view.length !== initialBytes) return null;
    for (let i = 0; i < view.length; i++) {
      const expected = i < image.length ? image[i] : 0;
      if (view[i] !== expected) return `a Memory kept past release shows byte ${i} as ${view[i]}, expected ${expected}: the reset was not done before release() returned`;
    }
    return null;
  };
}

export class PoolHost implements IsolationHost {
  readonly #pool: InstancePool;
  #prepared: PreparedModule[] = [];
  #images: Uint8Array[] = [];

  constructor(
    readonly name: string,
    config: PoolConfigInput,
    /** Prepare every module with this growth (`prepare(bytes, { growth })`); the pool's default when undefined. */
    readonly growth?: 'virtual' | 'retire',
  ) {
    this.#pool = new InstancePool(config);
  }

  get pool(): InstancePool {
    return this.#pool;
  }

  async prepare(modules: readonly Uint8Array[]): Promise<void> {
    this.#prepared = [];
    this.#images = [];
    for (const [i, bytes] of modules.entries()) {
      this.#prepared.push(await this.#pool.prepare(bytes, { name: `module ${i}`, ...(this.growth === undefined ? {} : { growth: this.growth }) }));
      this.#images.push(prepareLayout(bytes).image);
    }
  }

  acquire(module: number): HostedTenant {
    const prepared = this.#prepared[module];
    if (prepared === undefined) throw new RangeError(`PoolHost: no module ${module}`);
    const lease = this.#pool.instantiate(prepared);
    return {
      exports: lease.exports,
      release: () => lease.release(),
      staleUses: staleUses(lease),
      checkKeptMemory: keptMemoryCheck(prepared, this.#images[module] as Uint8Array, lease.memory),
    };
  }

  withFault<T>(fault: FaultSpec, run: () => T): T {
    const native = addon();
    native.injectFault(fault.syscall, fault.after, 1, 'ENOMEM');
    try {
      return run();
    } finally {
      native.injectFault(null);
    }
  }

  health(faultsInjected: boolean): string | null {
    const stats = this.#pool.stats();
    if (stats.leases.active !== 0) return `${stats.leases.active} lease(s) still counted active after every tenant released`;
    if (!faultsInjected && stats.resetFailures > 0) {
      return `${stats.resetFailures} slot reset(s) failed with no fault injected (the pool hides reset errors; run a single tenant under this reset mode to see it)`;
    }
    return null;
  }

  close(): void {
    this.#pool.close();
  }
}
