/**
 * Memories that grow per request (prepare with growth 'virtual'): a tenant
 * that grows leaves its slot pooled, and the next tenant sees exactly a
 * fresh instance — the initial size, zeroed pages, traps just past the
 * virtual size and past the physical size, memory.grow answers, JS views at
 * the virtual size. Differential: every tenant's observations are compared
 * with the same operations on a plain V8 instance of the original module.
 * Bulk operations past the virtual size (which V8 would perform in C++,
 * where a PROT_NONE page is a crash, not a trap) run in a child process.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, type InstancePool } from '../src/index.js';
import { addon } from '../src/native/addon.js';
import { runChild } from './support/child-process.js';
import { wat } from './support/wasm-fixtures.js';

const PAGE = 65536;
const SOURCE = `(module
  (memory (export "mem") 1 6)
  (data (i32.const 0) "hello")
  (data $p "abcdefgh")
  (func (export "size") (result i32) memory.size)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "ld") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "st") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
  (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $p))`;

type Op =
  | { op: 'size' }
  | { op: 'grow'; delta: number }
  | { op: 'ld'; at: number }
  | { op: 'st'; at: number; value: number }
  | { op: 'fill' | 'copy' | 'init'; d: number; x: number; n: number }
  | { op: 'jsgrow'; delta: number }
  | { op: 'buflen' };

type Exports = Record<string, (...args: number[]) => number>;

function observe(run: () => unknown): string {
  try {
    return `= ${String(run())}`;
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

function apply(exports: Exports, memory: WebAssembly.Memory, op: Op): string {
  switch (op.op) {
    case 'size':
      return observe(() => exports.size!());
    case 'grow':
      return observe(() => exports.grow!(op.delta));
    case 'ld':
      return observe(() => exports.ld!(op.at));
    case 'st':
      return observe(() => exports.st!(op.at, op.value));
    case 'fill':
    case 'copy':
    case 'init':
      return observe(() => exports[op.op]!(op.d, op.x, op.n));
    case 'jsgrow':
      return observe(() => memory.grow(op.delta));
    case 'buflen':
      return observe(() => memory.buffer.byteLength);
  }
}

/** Addresses near every boundary that matters: page edges up to past the maximum. */
const address = fc.oneof(
  fc.integer({ min: 0, max: 7 }).chain((page) => fc.integer({ min: -3, max: 3 }).map((d) => Math.max(0, page * PAGE + d))),
  fc.integer({ min: 0, max: 7 * PAGE }),
);
const inBoundsBulk = (o: { d: number; x: number; n: number }, pages: number): boolean => o.d + o.n <= pages * PAGE && o.x + o.n <= pages * PAGE;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ op: 'size' }),
  fc.integer({ min: 0, max: 7 }).map((delta): Op => ({ op: 'grow', delta })),
  fc.integer({ min: 0, max: 3 }).map((delta): Op => ({ op: 'jsgrow', delta })),
  address.map((at): Op => ({ op: 'ld', at })),
  fc.tuple(address, fc.integer({ min: 1, max: 255 })).map(([at, value]): Op => ({ op: 'st', at, value })),
  fc.tuple(fc.constantFrom('fill', 'copy', 'init'), address, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }))
    .map(([op, d, x, n]): Op => ({ op: op as 'fill', d, x: op === 'copy' ? d : x, n })),
  fc.constant<Op>({ op: 'buflen' }),
);

let pools: InstancePool[] = [];
afterEach(() => {
  for (const p of pools) p.close();
  pools = [];
});

/** A one-slot cow pool and SOURCE prepared with growth 'virtual' (closed after the test). */
async function virtualPool(): Promise<{ pool: InstancePool; prepared: Awaited<ReturnType<InstancePool['prepare']>> }> {
  const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
  pools.push(pool);
  return { pool, prepared: await pool.prepare(await wat(SOURCE, { bulk_memory: true }), { growth: 'virtual' }) };
}

describe('growth: virtual', () => {
  it('a tenant that grew leaves its slot pooled; the next one starts at the initial size with the grown pages zeroed and closed', async () => {
    const { pool, prepared } = await virtualPool();
    expect(prepared.growth).toEqual({ mode: 'virtual', reason: null });
    const first = pool.instantiate<Exports>(prepared);
    expect(first.exports.grow!(3)).toBe(1);
    first.exports.st!(3 * PAGE + 7, 0x5e);
    first.exports.st!(PAGE + 1, 0x5e);
    const memoryOfSlot = first.instance.exports.mem as WebAssembly.Memory;
    first.release();
    const second = pool.instantiate<Exports>(prepared);
    expect(memoryOfSlot.buffer.byteLength).toBe(4 * PAGE); // physically still grown
    expect(second.exports.size!()).toBe(1);
    expect(second.memory!.buffer.byteLength).toBe(PAGE);
    expect(() => second.exports.ld!(PAGE)).toThrow(/memory access out of bounds/);
    expect(second.exports.grow!(3)).toBe(1);
    expect(second.exports.ld!(3 * PAGE + 7)).toBe(0);
    expect(second.exports.ld!(PAGE + 1)).toBe(0);
    expect(second.instance.exports.mem).toBe(memoryOfSlot); // the same slot memory, not a replacement
    expect(pool.stats().retired).toBe(0);
    second.release();
  });

  it('growth retire (the default without host) still retires a memory that grew', async () => {
    const bytes = await wat(SOURCE, { bulk_memory: true });
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    pools.push(pool);
    const prepared = await pool.prepare(bytes);
    expect(prepared.growth.mode).toBe('retire');
    const lease = pool.instantiate<Exports>(prepared);
    lease.exports.grow!(1);
    lease.release();
    expect(pool.stats().retired).toBe(1);
  });

  it('the pool\'s growth config sets the default; prepare overrides it; a bad value names the field', async () => {
    const wasi = readFileSync(new URL('fixtures/wasi/cgi-grow.wasm', import.meta.url));
    const auto = createPool({ strategy: 'cow' });
    const retire = createPool({ strategy: 'cow', growth: 'retire' });
    const virtual = createPool({ strategy: 'cow', growth: 'virtual' });
    pools.push(auto, retire, virtual);
    const glue = await wat('(module (import "env" "f" (func)) (memory 1 4) (func (export "g") call 0))');
    expect((await auto.prepare(wasi)).growth.mode).toBe('virtual'); // a WASI module
    expect((await auto.prepare(glue)).growth.mode).toBe('retire'); // imports from env: glue may read the raw memory
    expect((await retire.prepare(wasi)).growth.mode).toBe('retire');
    expect((await retire.prepare(wasi, { growth: 'virtual' })).growth.mode).toBe('virtual');
    expect((await virtual.prepare(glue)).growth.mode).toBe('virtual');
    expect(() => createPool({ growth: 'shrink' as 'auto' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/growth/) }));
    await expect(auto.prepare(wasi, { growth: 'shrink' as 'auto' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a module that cannot grow, or holds atomics, retires and says why', async () => {
    const pool = createPool({ strategy: 'cow' });
    pools.push(pool);
    const fixed = await pool.prepare(await wat('(module (memory 2 2) (func (export "f")))'), { growth: 'virtual' });
    expect(fixed.growth).toEqual({ mode: 'retire', reason: expect.stringMatching(/cannot grow/) });
    const atomics = await pool.prepare(
      await wat('(module (memory 1 2) (func (export "f") (result i32) i32.const 0 i32.atomic.load))', { threads: true }),
      { growth: 'virtual' },
    );
    expect(atomics.growth).toEqual({ mode: 'retire', reason: expect.stringMatching(/0xfe/) });
  });

  it.each(['cow', 'reuse'] as const)('%s: every tenant observes what a fresh instance observes (differential, random operations)', async (strategy) => {
    const bytes = await wat(SOURCE, { bulk_memory: true });
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    pools.push(pool);
    const prepared = await pool.prepare(bytes, { growth: 'virtual' });
    const reference = new WebAssembly.Module(bytes);
    let tenants = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (ops) => {
        const fresh = new WebAssembly.Instance(reference, {});
        const freshMemory = fresh.exports.mem as WebAssembly.Memory;
        const lease = pool.instantiate<Exports>(prepared);
        tenants += 1;
        try {
          for (const op of ops) {
            // Bulk operations out of the virtual bounds are the child test's: here only in-bounds ones.
            if ((op.op === 'fill' || op.op === 'copy' || op.op === 'init') && !inBoundsBulk(op, freshMemory.buffer.byteLength / PAGE)) continue;
            const expected = apply(fresh.exports as unknown as Exports, freshMemory, op);
            const actual = apply(lease.exports, lease.memory!, op);
            expect(actual, JSON.stringify(op)).toBe(expected);
          }
          expect(Buffer.compare(Buffer.from(lease.memory!.buffer), Buffer.from(freshMemory.buffer)), 'memory after the operations').toBe(0);
        } finally {
          lease.release();
        }
      }),
      { numRuns: 60, seed: 4242 },
    );
    expect(tenants).toBeGreaterThanOrEqual(60);
    expect(pool.stats().retired).toBe(0);
  });

  it('JS views: lease.memory and exports.mem see the virtual size, die on release, and a view that grew is detached', async () => {
    const { pool, prepared } = await virtualPool();
    const grower = pool.instantiate<Exports>(prepared);
    grower.exports.grow!(4);
    grower.release();
    const lease = pool.instantiate<Exports & { mem: WebAssembly.Memory }>(prepared);
    const memory = lease.memory!;
    expect(memory).toBeInstanceOf(WebAssembly.Memory);
    expect(lease.exports.mem).toBe(memory);
    const before = memory.buffer;
    expect(before.byteLength).toBe(PAGE);
    expect(new TextDecoder().decode(new Uint8Array(before, 0, 5))).toBe('hello');
    expect(memory.grow(1)).toBe(1);
    expect(before.byteLength).toBe(0); // the alias was detached when the size changed
    expect(memory.buffer.byteLength).toBe(2 * PAGE);
    expect(lease.exports.size!()).toBe(2);
    expect(() => memory.grow(10)).toThrow(RangeError);
    const kept = memory.buffer;
    lease.release();
    expect(kept.byteLength).toBe(0);
    expect(() => memory.buffer).toThrow(expect.objectContaining({ code: 'LEASE_RELEASED' }));
    expect(() => memory.grow(1)).toThrow(expect.objectContaining({ code: 'LEASE_RELEASED' }));
  });

  it('host bindings default to virtual; ctx.memory is the view and bounds-checks against the virtual size', async () => {
    const bytes = await wat(`(module
      (import "host" "peek" (func $peek (param i32) (result i32)))
      (memory 1 4)
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
      (func (export "peek") (param i32) (result i32) local.get 0 call $peek))`);
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    pools.push(pool);
    const prepared = await pool.prepare(bytes, {
      host: (ctx) => ({ host: { peek: (ptr: number) => { try { return ctx.readBytes(ptr, 1)[0]!; } catch { return -1; } } } }),
    });
    expect(prepared.growth.mode).toBe('virtual');
    const a = pool.instantiate<Exports>(prepared);
    a.exports.grow!(3);
    expect(a.exports.peek!(3 * PAGE)).toBe(0);
    a.release();
    const b = pool.instantiate<Exports>(prepared);
    expect(b.exports.peek!(PAGE)).toBe(-1); // past the virtual size: a guest fault, never a read of a closed page
    expect(b.exports.peek!(PAGE - 1)).toBe(0);
    b.release();
  });

  it('an alias moved away (transfer) makes the slot retire its memory instead of closing pages under it', async () => {
    const { pool, prepared } = await virtualPool();
    const a = pool.instantiate<Exports>(prepared);
    a.exports.grow!(2);
    a.release();
    const b = pool.instantiate<Exports>(prepared);
    b.exports.grow!(1); // physical 3 pages, virtual 2: the view is an alias
    const alias = b.memory!.buffer;
    expect(alias.byteLength).toBe(2 * PAGE);
    const transfer = (alias as ArrayBuffer & { transfer?: () => ArrayBuffer }).transfer;
    if (transfer === undefined) return; // ArrayBuffer#transfer needs Node >= 21
    const moved = transfer.call(alias);
    b.release();
    expect(pool.stats().retired).toBe(1);
    expect(new Uint8Array(moved)[2 * PAGE - 1]).toBe(0); // still readable: the memory was not shrunk under it
  });

  it.each([0, 1])('mprotect failing while the grown tail is closed (call %i) leaves the slot unknown; the next tenant is exact', async (after) => {
    const { pool, prepared } = await virtualPool();
    const a = pool.instantiate<Exports>(prepared);
    a.exports.grow!(2);
    a.exports.st!(2 * PAGE + 3, 9);
    const native = addon();
    const fired = native.injectedFaults();
    native.injectFault('mprotect', after, 1, 'ENOMEM');
    try {
      a.release();
    } finally {
      native.injectFault(null);
    }
    expect(native.injectedFaults() - fired).toBe(1);
    expect(pool.stats().resetFailures).toBe(1);
    const b = pool.instantiate<Exports>(prepared);
    expect(b.exports.size!()).toBe(1);
    expect(() => b.exports.ld!(PAGE)).toThrow(/memory access out of bounds/);
    expect(b.exports.grow!(2)).toBe(1);
    expect(b.exports.ld!(2 * PAGE + 3)).toBe(0);
    b.release();
  });

  it('mprotect failing when a tenant grows back into closed pages: its memory.grow throws SYSCALL_FAILED, and the next tenant is exact', async () => {
    const { pool, prepared } = await virtualPool();
    const a = pool.instantiate<Exports>(prepared);
    a.exports.grow!(2);
    a.release();
    const b = pool.instantiate<Exports>(prepared);
    const native = addon();
    native.injectFault('mprotect', 0, 1, 'ENOMEM');
    try {
      expect(() => b.exports.grow!(1)).toThrow(expect.objectContaining({ code: 'SYSCALL_FAILED', syscall: 'mprotect', errno: 'ENOMEM' }));
    } finally {
      native.injectFault(null);
    }
    expect(b.exports.size!()).toBe(1);
    expect(() => b.exports.ld!(PAGE)).toThrow(/memory access out of bounds/);
    b.release();
    const c = pool.instantiate<Exports>(prepared);
    expect(c.exports.grow!(2)).toBe(1);
    expect(c.exports.ld!(PAGE + 5)).toBe(0);
    c.release();
  });

  it('handing out the raw instance (lease.instance, ctx.exports) opens the grown tail: JS reads through the raw memory see zeros, never fault; the next tenant is closed again (child process)', () => {
    const r = runChild(
      `
      const { createPool } = await import(new URL('index.ts', SRC));
      const { wat } = await import(new URL('../test/support/wasm-fixtures.ts', SRC));
      const bytes = await wat(${JSON.stringify(SOURCE)}, { bulk_memory: true });
      const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(bytes, { growth: 'virtual' });
      const PAGE = 65536;
      const o = (f) => { try { return 'ok ' + f(); } catch (e) { return e.constructor.name + ': ' + e.message; } };
      const grower = pool.instantiate(prepared);
      grower.exports.grow(3);
      grower.exports.st(3 * PAGE + 9, 77);
      grower.release();
      const out = {};
      const b = pool.instantiate(prepared);
      out.beforeExpose = o(() => b.exports.ld(2 * PAGE));
      const raw = b.instance.exports.mem;               // the raw memory, physical size
      out.rawLength = raw.buffer.byteLength;
      out.rawRead = new Uint8Array(raw.buffer)[3 * PAGE + 9];   // the earlier tenant's byte was zeroed
      out.afterExpose = o(() => b.exports.ld(2 * PAGE));
      out.size = b.exports.size();
      b.release();
      const c = pool.instantiate(prepared);
      out.nextTenant = o(() => c.exports.ld(2 * PAGE));
      c.release();
      // ctx.exports opens it too: a host function reading the raw memory at a guest pointer past the virtual size.
      const hostBytes = await wat('(module (import "h" "peek" (func $peek (param i32) (result i32))) (memory (export "mem") 1 4)' +
        ' (func (export "grow") (param i32) (result i32) local.get 0 memory.grow) (func (export "peek") (param i32) (result i32) local.get 0 call $peek))');
      const hp = await pool.prepare(hostBytes, { host: (ctx) => ({ h: { peek: (ptr) => new Uint8Array(ctx.exports.mem.buffer)[ptr] ?? -1 } }) });
      const g = pool.instantiate(hp); g.exports.grow(3); g.release();
      const h = pool.instantiate(hp);
      out.hostPeek = h.exports.peek(3 * PAGE + 1);
      h.release();
      console.log(JSON.stringify(out));
      `,
      {},
    );
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out).toEqual({
      beforeExpose: 'RuntimeError: memory access out of bounds',
      rawLength: 4 * PAGE,
      rawRead: 0,
      afterExpose: 'ok 0', // the documented price: past memory.size no longer traps for this tenant
      size: 1,
      nextTenant: 'RuntimeError: memory access out of bounds',
      hostPeek: 0,
    });
  });

  it('bulk operations past the virtual size trap like a fresh instance (child process: unguarded they would crash it)', () => {
    const r = runChild(
      `
      const { createPool } = await import(new URL('index.ts', SRC));
      const { wat } = await import(new URL('../test/support/wasm-fixtures.ts', SRC));
      const bytes = await wat(${JSON.stringify(SOURCE)}, { bulk_memory: true });
      const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(bytes, { growth: 'virtual' });
      const grower = pool.instantiate(prepared);
      grower.exports.grow(5);
      grower.release();
      const fresh = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      const lease = pool.instantiate(prepared);
      const out = [];
      const o = (f) => { try { return 'ok ' + f(); } catch (e) { return e.constructor.name + ': ' + e.message; } };
      for (const [op, d, x, n] of [['fill', 65535, 7, 2], ['fill', 65536, 7, 0], ['fill', 65537, 7, 0], ['fill', 3 * 65536, 7, 16],
        ['copy', 65530, 0, 8], ['copy', 0, 65530, 8], ['copy', 2 * 65536, 0, 1], ['init', 65532, 0, 8], ['init', 65536, 0, 0], ['init', 0, 4, 8]]) {
        out.push([op, d, x, n, o(() => lease.exports[op](d, x, n)), o(() => fresh.exports[op](d, x, n))]);
      }
      lease.release();
      console.log(JSON.stringify(out));
      `,
      {},
    );
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as [string, number, number, number, string, string][];
    expect(rows).toHaveLength(10);
    for (const [op, d, x, n, pooled, fresh] of rows) expect(pooled, `${op}(${d}, ${x}, ${n})`).toBe(fresh);
    expect(rows.filter((row) => row[4].startsWith('RuntimeError')).length).toBeGreaterThanOrEqual(6);
  });
});
