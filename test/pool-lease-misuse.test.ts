/**
 * Misusing leases, reservations and pools fails loudly with a stable code
 * and never reaches a slot that belongs to someone else: use after release,
 * double release, a reservation used twice, a closed pool, a module from
 * another pool, an exhausted pool (throw and wait policies), and a lease
 * nobody releases (reclaimed by garbage collection, its memory dropped).
 */
import { describe, expect, it } from 'vitest';
import { createPool, type InstancePool, type Lease, type PoolConfigInput, type PreparedModule } from '../src/index.js';
import { collectUntil } from './helpers/forced-gc.js';
import { asyncOutcomeOf, callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

/** `bump` increments byte 0 and returns it: a stale call that ran would show in the next tenant. */
const WAT = `(module
  (memory (export "mem") 1)
  (data (i32.const 1) "image")
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "bump") (result i32)
    (i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1)))
    (i32.load8_u (i32.const 0))))`;

async function poolWith(config: PoolConfigInput): Promise<{ pool: InstancePool; prepared: PreparedModule }> {
  const pool = createPool(config);
  return { pool, prepared: await pool.prepare(await watModule(WAT), { name: 'bump.wasm' }) };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const code = (c: string) => ({ threw: `CowpoolError:${c}` });

describe.each(['cow', 'fresh'] as const)('strategy %s: use after release', (strategy) => {
  it('exports, memory, instance and functions taken before release all throw LEASE_RELEASED', async () => {
    const { pool, prepared } = await poolWith({ strategy, limits: { maxSlots: 1 } });
    const lease = pool.instantiate(prepared);
    const exports = lease.exports;
    const bump = exports.bump as () => number;
    expect(bump()).toBe(1);
    lease.release();

    expect(lease.released).toBe(true);
    expect(outcomeOf(() => lease.exports)).toMatchObject(code('LEASE_RELEASED'));
    expect(outcomeOf(() => lease.memory)).toMatchObject(code('LEASE_RELEASED'));
    expect(outcomeOf(() => lease.instance)).toMatchObject(code('LEASE_RELEASED'));
    expect(outcomeOf(() => bump())).toMatchObject(code('LEASE_RELEASED'));
    expect(outcomeOf(() => callExport(exports, 'bump'))).toMatchObject(code('LEASE_RELEASED'));
    expect(outcomeOf(() => exports.mem)).toMatchObject(code('LEASE_RELEASED'));
    expect(outcomeOf(() => exports.g)).toMatchObject(code('LEASE_RELEASED'));

    // The next tenant (the same slot under cow) saw none of the stale calls.
    const next = pool.instantiate(prepared);
    expect(callExport(next.exports, 'bump')).toBe(1);
    expect(outcomeOf(() => bump())).toMatchObject(code('LEASE_RELEASED'));
    expect(callExport(next.exports, 'bump')).toBe(2);
    next.release();
    pool.close();
  });

  it('a second release throws LEASE_RELEASED and is not counted', async () => {
    const { pool, prepared } = await poolWith({ strategy, limits: { maxSlots: 1 } });
    const lease = pool.instantiate(prepared);
    lease.release();
    expect(outcomeOf(() => lease.release())).toMatchObject(code('LEASE_RELEASED'));
    expect(pool.stats().leases).toMatchObject({ active: 0, acquired: 1, released: 1 });
    pool.close();
  });
});

describe('reservations', () => {
  it('a reservation instantiates once; a second use throws INVALID_ARGUMENT and keeps the lease intact', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    const reservation = pool.reserve(prepared);
    const lease = reservation.instantiate();
    expect(lease.memory).toBe(reservation.memory);
    expect(outcomeOf(() => reservation.instantiate())).toMatchObject(code('INVALID_ARGUMENT'));
    reservation.cancel();
    expect(pool.stats().slots.byState.leased).toBe(1);
    expect(callExport(lease.exports, 'bump')).toBe(1);
    lease.release();
    pool.close();
  });

  it('a cancelled reservation gives its slot back and cannot instantiate', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    const reservation = pool.reserve(prepared);
    reservation.cancel();
    expect(pool.stats().slots.byState.leased).toBe(0);
    expect(outcomeOf(() => reservation.instantiate())).toMatchObject(code('INVALID_ARGUMENT'));
    pool.instantiate(prepared).release();
    pool.close();
  });

  it('an Emscripten hook serves one instance', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 2 } });
    const hook = pool.emscriptenHook(prepared);
    const received: WebAssembly.Instance[] = [];
    hook({}, (instance) => received.push(instance));
    expect(received).toEqual([hook.lease!.instance]);
    expect(hook.wasmMemory).toBe(hook.lease!.memory);
    expect(outcomeOf(() => hook({}, () => undefined))).toMatchObject(code('INVALID_ARGUMENT'));
    hook.lease!.release();
    pool.close();
  });
});

describe('a closed pool', () => {
  it('refuses prepare, instantiate, reserve, hooks and waiting with POOL_CLOSED', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    const bytes = await watModule(WAT);
    pool.close();
    pool.close();
    expect(pool.closed).toBe(true);
    expect(outcomeOf(() => pool.instantiate(prepared))).toMatchObject(code('POOL_CLOSED'));
    expect(outcomeOf(() => pool.reserve(prepared))).toMatchObject(code('POOL_CLOSED'));
    expect(outcomeOf(() => pool.emscriptenHook(prepared)({}, () => undefined))).toMatchObject(code('POOL_CLOSED'));
    expect(await asyncOutcomeOf(() => pool.instantiateAsync(prepared))).toMatchObject(code('POOL_CLOSED'));
    expect(await asyncOutcomeOf(() => pool.prepare(bytes))).toMatchObject(code('POOL_CLOSED'));
  });

  it('a reservation taken before close cannot instantiate after it', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    const reservation = pool.reserve(prepared);
    pool.close();
    expect(outcomeOf(() => reservation.instantiate())).toMatchObject(code('POOL_CLOSED'));
    expect(pool.stats().slots).toMatchObject({ total: 0, byState: { leased: 0 } });
  });

  it('a lease out at close keeps working until released; then its memory is dropped, not reset for reuse', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    const lease = pool.instantiate(prepared);
    pool.close();
    expect(callExport(lease.exports, 'bump')).toBe(1);
    lease.release();
    const stats = pool.stats();
    expect(stats.slots.total).toBe(0);
    expect(stats.slots.byState.leased).toBe(0);
    expect(stats.resetFailures).toBe(0);
  });
});

describe('a module prepared by another pool', () => {
  it('is refused with WRONG_OWNER by instantiate, reserve, instantiateAsync and hooks', async () => {
    const { pool: other, prepared: foreign } = await poolWith({});
    const { pool } = await poolWith({});
    expect(outcomeOf(() => pool.instantiate(foreign))).toMatchObject(code('WRONG_OWNER'));
    expect(outcomeOf(() => pool.reserve(foreign))).toMatchObject(code('WRONG_OWNER'));
    expect(outcomeOf(() => pool.emscriptenHook(foreign)({}, () => undefined))).toMatchObject(code('WRONG_OWNER'));
    expect(await asyncOutcomeOf(() => pool.instantiateAsync(foreign))).toMatchObject(code('WRONG_OWNER'));
    expect(outcomeOf(() => pool.instantiate({ ...foreign } as PreparedModule))).toMatchObject(code('WRONG_OWNER'));
    // The owner still serves it.
    other.instantiate(foreign).release();
    other.close();
    pool.close();
  });
});

describe('an exhausted pool', () => {
  it('policy throw: instantiate and instantiateAsync fail at once with POOL_EXHAUSTED, counted', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 }, exhausted: { policy: 'throw' } });
    const held = pool.instantiate(prepared);
    const sync = outcomeOf(() => pool.instantiate(prepared));
    expect(sync).toMatchObject(code('POOL_EXHAUSTED'));
    expect((sync as { message: string }).message).toContain('limits.maxSlots (1)');
    const started = Date.now();
    expect(await asyncOutcomeOf(() => pool.instantiateAsync(prepared))).toMatchObject(code('POOL_EXHAUSTED'));
    expect(Date.now() - started).toBeLessThan(50);
    expect(pool.stats().exhausted).toBe(2);
    held.release();
    pool.instantiate(prepared).release();
    pool.close();
  });

  it('limits.maxSlotsPerImage stops one module while another still gets a slot', async () => {
    const pool = createPool({ limits: { maxSlots: 2, maxSlotsPerImage: 1 } });
    const first = await pool.prepare(await watModule(WAT), { name: 'first.wasm' });
    const second = await pool.prepare(await watModule(WAT.replace('"image"', '"other"')), { name: 'second.wasm' });
    const held = pool.instantiate(first);
    const refused = outcomeOf(() => pool.instantiate(first));
    expect(refused).toMatchObject(code('POOL_EXHAUSTED'));
    expect((refused as { message: string }).message).toContain('first.wasm already holds limits.maxSlotsPerImage (1)');
    pool.instantiate(second).release();
    held.release();
    pool.close();
  });

  it('policy wait: instantiateAsync resolves when another lease is released, with that slot', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 }, exhausted: { policy: 'wait', timeoutMs: 5000 } });
    const held = pool.instantiate(prepared);
    callExport(held.exports, 'bump');
    const memory = held.memory;
    let settled = false;
    const waiting = pool.instantiateAsync(prepared).finally(() => {
      settled = true;
    });
    await delay(30);
    expect(settled).toBe(false);
    held.release();
    const lease = await waiting;
    expect(lease.memory).toBe(memory);
    expect(callExport(lease.exports, 'bump')).toBe(1);
    lease.release();
    pool.close();
  });

  it('policy wait: instantiateAsync rejects with POOL_EXHAUSTED after timeoutMs', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 }, exhausted: { policy: 'wait', timeoutMs: 80 } });
    const held = pool.instantiate(prepared);
    const started = Date.now();
    const outcome = await asyncOutcomeOf(() => pool.instantiateAsync(prepared));
    const waited = Date.now() - started;
    expect(outcome).toMatchObject(code('POOL_EXHAUSTED'));
    expect((outcome as { message: string }).message).toContain('waited 80 ms');
    expect(waited).toBeGreaterThanOrEqual(75);
    expect(waited).toBeLessThan(2000);
    held.release();
    pool.close();
  });

  it('policy wait: closing the pool fails the waiters with POOL_CLOSED', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 }, exhausted: { policy: 'wait', timeoutMs: 5000 } });
    const held = pool.instantiate(prepared);
    const waiting = asyncOutcomeOf(() => pool.instantiateAsync(prepared));
    await delay(10);
    pool.close();
    expect(await waiting).toMatchObject(code('POOL_CLOSED'));
    held.release();
  });
});

describe('garbage collection of what nobody released', () => {
  it('an unreleased pooled lease is reclaimed: counted, its memory dropped, its slot usable again', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    const memories: WebAssembly.Memory[] = [];
    ((): void => {
      const lease: Lease = pool.instantiate(prepared);
      memories.push(lease.memory!);
      callExport(lease.exports, 'bump');
    })();
    expect(await collectUntil(() => pool.stats().leases.reclaimed === 1)).toBe(true);
    const stats = pool.stats();
    expect(stats.leases).toEqual({ active: 0, acquired: 1, released: 0, reclaimed: 1 });
    expect(stats.retired).toBe(1);
    expect(stats.slots.byState.leased).toBe(0);
    // The memory the lost tenant may still reach (here: `memories[0]`) is never handed out again.
    const next = pool.instantiate(prepared);
    expect(next.memory).not.toBe(memories[0]);
    expect(callExport(next.exports, 'bump')).toBe(1);
    next.release();
    pool.close();
  });

  it('an unreleased plain lease is reclaimed and counted', async () => {
    const { pool, prepared } = await poolWith({ strategy: 'fresh' });
    ((): void => {
      pool.instantiate(prepared);
    })();
    expect(await collectUntil(() => pool.stats().leases.reclaimed === 1)).toBe(true);
    expect(pool.stats().leases).toEqual({ active: 0, acquired: 1, released: 0, reclaimed: 1 });
    pool.close();
  });

  it('a reservation dropped without instantiate or cancel gives its slot back (retired)', async () => {
    const { pool, prepared } = await poolWith({ limits: { maxSlots: 1 } });
    ((): void => {
      const hook = pool.emscriptenHook(prepared);
      expect(hook.wasmMemory).toBeInstanceOf(WebAssembly.Memory);
    })();
    expect(outcomeOf(() => pool.instantiate(prepared))).toMatchObject(code('POOL_EXHAUSTED'));
    expect(await collectUntil(() => pool.stats().leases.reclaimed === 1)).toBe(true);
    expect(pool.stats().leases.active).toBe(0);
    pool.instantiate(prepared).release();
    pool.close();
  });
});
