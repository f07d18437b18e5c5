/**
 * What references kept past release() can and cannot do — the facts
 * SECURITY.md states, checked so the document stays true:
 *
 * - Everything reached through the lease (exports view, memory, instance,
 *   function exports taken before) throws LEASE_RELEASED.
 * - A kept WebAssembly.Memory never shows the released tenant's writes: the
 *   reset is done before release() returns (cow: the image again; copy: zeros
 *   until the next tenant's image is copied in).
 * - Under the pooled strategies a kept Memory — and a kept raw instance, whose
 *   functions are not guarded — reach the slot's next tenant. The host is
 *   trusted not to keep them; a memory that was retired (grew, pool closed)
 *   is never handed to anyone again.
 * - Under `fresh` nothing is shared: kept objects reach only their own
 *   instance.
 */
import { describe, expect, it } from 'vitest';
import { createPool, type Strategy } from '../src/index.js';
import { callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module (memory (export "mem") 1 2)
  (data (i32.const 0) "image")
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

const code = (c: string) => ({ threw: `CowpoolError:${c}` });

describe.each(['copy', 'cow'] as const satisfies readonly Strategy[])('strategy %s', (strategy) => {
  it('the lease refuses every use after release; a kept Memory shows the reset image, not the released writes', async () => {
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const lease = pool.instantiate(prepared);
    const memory = lease.memory as WebAssembly.Memory;
    const peek = lease.exports.peek as (a: number) => number;
    new Uint8Array(memory.buffer).fill(0x42);
    lease.release();
    for (const use of [() => lease.exports, () => lease.memory, () => lease.instance, () => peek(0)]) {
      expect(outcomeOf(use)).toMatchObject(code('LEASE_RELEASED'));
    }
    // cow maps the image back at reset; copy zeroes the slot and copies the image in at the next acquire.
    const view = new Uint8Array(memory.buffer);
    expect(new TextDecoder().decode(view.subarray(0, 5))).toBe(strategy === 'cow' ? 'image' : '\0'.repeat(5));
    expect(view.subarray(5).every((b) => b === 0)).toBe(true);
    pool.close();
  });

  it('a kept Memory and a kept raw instance reach the next tenant of the slot (why the host must drop them)', async () => {
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const first = pool.instantiate(prepared);
    const keptMemory = first.memory as WebAssembly.Memory;
    const keptInstance = first.instance;
    first.release();

    const next = pool.instantiate(prepared);
    expect(next.memory).toBe(keptMemory);
    new Uint8Array(keptMemory.buffer)[1000] = 0x11;
    (keptInstance.exports.poke as (a: number, v: number) => void)(1001, 0x22);
    expect(callExport(next.exports, 'peek', 1000)).toBe(0x11);
    expect(callExport(next.exports, 'peek', 1001)).toBe(0x22);
    next.release();
    pool.close();
  });

  it('a memory that grew is retired: a kept reference to it never reaches another tenant', async () => {
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const first = pool.instantiate(prepared);
    const kept = first.memory as WebAssembly.Memory;
    callExport(first.exports, 'grow', 1);
    first.release();
    const next = pool.instantiate(prepared);
    expect(next.memory).not.toBe(kept);
    new Uint8Array(kept.buffer)[7] = 0x33;
    expect(callExport(next.exports, 'peek', 7)).toBe(0);
    next.release();
    expect(pool.stats().retired).toBe(1);
    pool.close();
  });

  it('closing the pool retires every idle memory: kept references reach nothing new', async () => {
    const pool = createPool({ strategy, limits: { maxSlots: 2 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const idle = pool.instantiate(prepared);
    const out = pool.instantiate(prepared);
    idle.release();
    expect(pool.stats().slots.byState).toMatchObject({ clean: 1, leased: 1, retired: 0 });
    pool.close();
    // The idle slot dropped its memory at close; the leased one keeps serving its tenant.
    expect(pool.stats().slots.byState).toMatchObject({ clean: 0, leased: 1, retired: 1 });
    expect(pool.stats().retired).toBe(1);
    expect(callExport(out.exports, 'peek', 0)).toBe('i'.charCodeAt(0));
    // Released into a closed pool, the last slot is dropped too, not made clean for reuse.
    out.release();
    expect(pool.stats().slots.byState).toMatchObject({ clean: 0, leased: 0, retired: 2 });
    expect(pool.stats().retired).toBe(2);
    // Nothing can hand the kept memory out again.
    expect(outcomeOf(() => pool.instantiate(prepared))).toMatchObject(code('POOL_CLOSED'));
  });
});

describe('strategy fresh', () => {
  it('kept objects reach only their own instance', async () => {
    const pool = createPool({ strategy: 'fresh' });
    const prepared = await pool.prepare(await watModule(WAT));
    const first = pool.instantiate(prepared);
    const kept = first.memory as WebAssembly.Memory;
    first.release();
    const next = pool.instantiate(prepared);
    expect(next.memory).not.toBe(kept);
    new Uint8Array(kept.buffer)[1000] = 0x11;
    expect(callExport(next.exports, 'peek', 1000)).toBe(0);
    next.release();
    pool.close();
  });
});
