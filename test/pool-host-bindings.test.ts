/**
 * `prepare(bytes, { host })`: the host's functions are made once per slot and
 * read the current tenant through `ctx` (memory, exports, data); a call with
 * no tenant current, a stale ctx and a guest pointer outside memory are
 * refused without reading another tenant's bytes.
 */
import { describe, expect, it } from 'vitest';
import { createPool, CowpoolError, type HostContext, type Strategy } from '../src/index.js';
import { callExport } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

// echo(ptr, len): the host reads the guest's string and writes the tenant's data string at 1024.
const WAT = `(module
  (import "env" "echo" (func $echo (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  (func (export "run") (param i32 i32) (result i32) (call $echo (local.get 0) (local.get 1)))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

interface Seen { text: string; data: unknown; memory: WebAssembly.Memory | null }

async function setup(strategy: Strategy, maxSlots = 1) {
  const pool = createPool({ strategy, limits: { maxSlots } });
  const seen: Seen[] = [];
  const contexts: HostContext<string>[] = [];
  const prepared = await pool.prepare(await watModule(WAT), {
    host: (ctx: HostContext<string>) => {
      contexts.push(ctx);
      return {
        env: {
          echo: (ptr: number, len: number): number => {
            seen.push({ text: ctx.readString(ptr, len), data: ctx.data, memory: ctx.memory });
            const text = ctx.data ?? '';
            return ctx.writeString(1024, 64, text);
          },
        },
      };
    },
  });
  return { pool, prepared, seen, contexts };
}

const decode = (memory: WebAssembly.Memory, at: number, n: number): string => new TextDecoder().decode(new Uint8Array(memory.buffer, at, n));

describe.each(['cow', 'reuse', 'fresh'] as const)('host bindings under %s', (strategy) => {
  it('ctx is the current tenant: its memory, its exports, its data', async () => {
    const { pool, prepared, seen } = await setup(strategy);
    const a = pool.instantiate(prepared, { data: 'tenant-a' });
    expect(callExport(a.exports, 'run', 0, 5)).toBe(8);
    expect(decode(a.memory!, 1024, 8)).toBe('tenant-a');
    expect(seen[0]).toMatchObject({ text: 'hello', data: 'tenant-a' });
    expect(seen[0]!.memory).toBe(a.memory);
    a.release();

    const b = pool.instantiate(prepared, { data: 'b' });
    expect(callExport(b.exports, 'run', 1, 4)).toBe(1);
    expect(seen[1]).toMatchObject({ text: 'ello', data: 'b' });
    expect(seen[1]!.memory).toBe(b.memory);
    // The new tenant sees the image, not what the host wrote for the last one.
    expect(decode(b.memory!, 1024, 8)).toBe('b\0\0\0\0\0\0\0');
    b.release();
    pool.close();
  });

  it('a pointer outside memory traps the guest; the host throws nothing else and reads nothing', async () => {
    const { pool, prepared, seen } = await setup(strategy);
    const a = pool.instantiate(prepared, { data: 'x' });
    const run = (ptr: number, len: number): unknown => callExport(a.exports, 'run', ptr, len);
    expect(() => run(65536 - 2, 5)).toThrow(WebAssembly.RuntimeError);
    expect(() => run(-1, 1)).toThrow(WebAssembly.RuntimeError);
    expect(() => run(0, -1)).toThrow(WebAssembly.RuntimeError);
    expect(seen).toEqual([]);
    // In bounds right up to the end is fine.
    expect(run(65536 - 1, 1)).toBe(1);
    a.release();
    pool.close();
  });
});

describe('host bindings made once per slot', () => {
  it('cow: host is called once per slot, not per tenant', async () => {
    const { pool, prepared, contexts } = await setup('cow', 2);
    for (let i = 0; i < 5; i++) {
      const a = pool.instantiate(prepared, { data: `a${i}` });
      const b = pool.instantiate(prepared, { data: `b${i}` });
      expect(callExport(a.exports, 'run', 0, 1)).toBe(2);
      b.release();
      a.release();
    }
    expect(contexts.length).toBe(2);
    pool.close();
  });

  it('reuse keeps its instance across tenants of a host-bound module', async () => {
    const { pool, prepared, contexts } = await setup('reuse');
    const a = pool.instantiate(prepared, { data: 'a' });
    const kept = a.instance;
    callExport(a.exports, 'poke', 7, 9);
    a.release();
    const b = pool.instantiate(prepared, { data: 'b' });
    expect(b.instance).toBe(kept);
    expect(callExport(b.exports, 'peek', 7)).toBe(0);
    b.release();
    expect(contexts.length).toBe(1);
    pool.close();
  });

  it('the raw instance called after release reaches no host function (LEASE_RELEASED)', async () => {
    const { pool, prepared, seen } = await setup('cow');
    const a = pool.instantiate(prepared, { data: 'a' });
    const raw = a.instance.exports as { run(p: number, l: number): number };
    a.release();
    const err = (() => { try { raw.run(0, 5); } catch (e) { return e; } return null; })();
    expect(err).toBeInstanceOf(CowpoolError);
    expect((err as CowpoolError).code).toBe('LEASE_RELEASED');
    expect(seen).toEqual([]);
    pool.close();
  });

  it('a stale ctx kept by the previous tenant cannot read the next tenant\'s memory or data', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    let saved: HostContext<string> | null = null;
    const prepared = await pool.prepare(await watModule(WAT), {
      host: (ctx: HostContext<string>) => ({ env: { echo: () => ((saved = ctx), 0) } }),
    });
    const a = pool.instantiate(prepared, { data: 'a' });
    callExport(a.exports, 'run', 0, 0);
    a.release();
    const b = pool.instantiate(prepared, { data: 'secret-b' });
    callExport(b.exports, 'poke', 0, 0x42);
    const stale = saved as unknown as HostContext<string>;
    for (const read of [() => stale.memory, () => stale.data, () => stale.exports, () => stale.readBytes(0, 1)]) {
      expect(read).toThrowError(expect.objectContaining({ code: 'LEASE_RELEASED' }) as Error);
    }
    b.release();
    // With no tenant at all, the same.
    expect(() => stale.memory).toThrowError(expect.objectContaining({ code: 'LEASE_RELEASED' }) as Error);
    pool.close();
  });

  it('the start function\'s host calls see the new tenant\'s memory and data', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    const startSeen: unknown[] = [];
    const prepared = await pool.prepare(await watModule(`(module
      (import "env" "hello" (func $hello))
      (memory 1)
      (start $hello))`), {
      host: (ctx: HostContext<number>) => ({ env: { hello: () => void startSeen.push([ctx.data, ctx.memory?.buffer.byteLength]) } }),
    });
    pool.instantiate(prepared, { data: 1 }).release();
    pool.instantiate(prepared, { data: 2 }).release();
    expect(startSeen).toEqual([[1, 65536], [2, 65536]]);
    pool.close();
  });
});
