/**
 * What could take the process down, each in its own child process: touching
 * a raw slot's stale (detached) buffer after grow, release and the slot's
 * unmapping; reading a released lease's memory and a kept Memory after its
 * slot was reset, grown or dropped; exiting with leases out and pools open;
 * terminating a worker thread that holds leases; garbage-collecting leases
 * nobody released. The child reports what it saw as JSON and must exit
 * normally (status 0, no signal).
 */
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runTsChild, srcUrl, type ChildOutcome } from './helpers/reliability-child.js';

const PRELUDE = `
  const lib = await import(${JSON.stringify(srcUrl('index.ts'))});
  const { emitModule } = await import(${JSON.stringify(srcUrl('fuzz/emit-module.ts'))});
  const PAGE = 65536;
  const attempt = (run) => { try { const v = run(); return v === undefined ? 'undefined' : v; } catch (e) { return e.code ?? e.name; } };
  const secretModule = emitModule({
    memory: { minPages: 1, maxPages: 4 },
    data: [{ mode: 'active', offset: 0, bytes: new TextEncoder().encode('image') }],
    globals: [], tables: [], elems: [], funcCount: 1, start: null,
  });
`;

function expectNormalExit(child: ChildOutcome): void {
  expect({ status: child.status, signal: child.signal }, child.stderr).toEqual({ status: 0, signal: null });
}

describe.concurrent('crash safety (child processes)', () => {
  it("a raw slot's stale buffers after grow, release and unmapping read as detached", async () => {
    const child = await runTsChild(`${PRELUDE}
      const pool = new lib.RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB' } });
      const image = pool.image(new Uint8Array([1, 2, 3]));
      const r = {};
      const lease = pool.acquire(image, { initialBytes: PAGE, maxBytes: 4 * PAGE });
      const before = lease.buffer;
      const view = new Uint8Array(before);
      view[10] = 5;
      lease.grow(PAGE);
      view[10] = 9;
      r.afterGrow = { byteLength: before.byteLength, viewLength: view.length, read: attempt(() => view[10]),
        kept: new Uint8Array(lease.buffer)[10], newView: attempt(() => new Uint8Array(before).length),
        dataView: attempt(() => new DataView(before).getUint8(0)) };
      const mid = new Uint8Array(lease.buffer);
      lease.release();
      mid[0] = 77;
      r.afterRelease = { byteLength: mid.buffer.byteLength, read: attempt(() => mid[0]), fill: attempt(() => mid.fill(1).length) };
      const second = pool.acquire(image, { initialBytes: PAGE });
      const kept = new Uint8Array(second.buffer);
      pool.close();
      r.closedWhileLeased = kept[0];
      second.release();
      kept[0] = 7;
      r.afterUnmap = { byteLength: kept.buffer.byteLength, read: attempt(() => kept[0]), copyWithin: attempt(() => kept.copyWithin(0, 1).length),
        slice: attempt(() => kept.slice(0, 4).length) };
      image.release();
      console.log(JSON.stringify(r));
    `);
    expectNormalExit(child);
    const r = lastJsonLine<Record<string, Record<string, unknown> | number>>(child.stdout);
    expect(r.afterGrow).toMatchObject({ byteLength: 0, viewLength: 0, read: 'undefined', kept: 5, newView: 'TypeError', dataView: 'TypeError' });
    expect(r.afterRelease).toMatchObject({ byteLength: 0, read: 'undefined' });
    expect(r.closedWhileLeased).toBe(1);
    expect(r.afterUnmap).toMatchObject({ byteLength: 0, read: 'undefined' });
  });

  it("a released lease's memory: the lease refuses it; a kept Memory reads the reset image, detaches on grow, outlives close", async () => {
    const child = await runTsChild(`${PRELUDE}
      const pool = lib.createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(secretModule);
      const r = {};
      const lease = pool.instantiate(prepared);
      const memory = lease.memory;
      const view = new Uint8Array(memory.buffer);
      view.fill(0x42, 0, 3 * 4096);
      lease.release();
      r.leaseMemory = attempt(() => lease.memory);
      r.keptAfterReset = { head: new TextDecoder().decode(view.subarray(0, 5)), past: view[4096] };
      const grower = pool.instantiate(prepared);
      const stale = grower.memory.buffer;
      grower.exports.grow(1);
      r.bufferAfterGrow = stale.byteLength;
      const grown = grower.memory;
      grower.release();
      r.grownKept = grown.buffer.byteLength;
      const next = pool.instantiate(prepared);
      r.nextIsNewMemory = next.memory !== grown;
      next.release();
      pool.close();
      r.keptAfterClose = new Uint8Array(memory.buffer)[0];
      console.log(JSON.stringify(r));
    `);
    expectNormalExit(child);
    const r = lastJsonLine<Record<string, unknown>>(child.stdout);
    expect(r).toEqual({
      leaseMemory: 'LEASE_RELEASED',
      keptAfterReset: { head: 'image', past: 0 },
      bufferAfterGrow: 0,
      grownKept: 2 * 65536,
      nextIsNewMemory: true,
      keptAfterClose: 'i'.charCodeAt(0),
    });
  });

  it('exiting with leases out and pools open (natural end and process.exit)', async () => {
    for (const ending of ['', 'process.exit(0);']) {
      const child = await runTsChild(`${PRELUDE}
        const pool = lib.createPool({ strategy: 'cow', limits: { maxSlots: 4 } });
        const prepared = await pool.prepare(secretModule);
        const leases = [pool.instantiate(prepared), pool.instantiate(prepared)];
        leases[0].exports.grow(1);
        const raw = new lib.RawSlotPool({ limits: { maxSlots: 2, maxMemoryBytesPerSlot: '1MiB' } });
        const image = raw.image(new Uint8Array([1]));
        const rawLease = raw.acquire(image, { initialBytes: PAGE });
        new Uint8Array(rawLease.buffer).fill(3);
        globalThis.keep = { leases, rawLease };
        console.log(JSON.stringify({ ok: true }));
        ${ending}
      `);
      expectNormalExit(child);
    }
  });

  it('terminating a worker thread that holds leases; the main thread keeps serving', async () => {
    const child = await runTsChild(`${PRELUDE}
      const { Worker } = await import('node:worker_threads');
      const code = \`
        const { parentPort } = await import('node:worker_threads');
        const lib = await import(\${JSON.stringify(${JSON.stringify(srcUrl('index.ts'))})});
        const pool = lib.createPool({ strategy: 'cow', limits: { maxSlots: 2 } });
        const bytes = new Uint8Array([0,97,115,109,1,0,0,0,5,3,1,0,1,11,7,1,0,65,0,11,1,7]);
        const prepared = await pool.prepare(bytes);
        const leases = [pool.instantiate(prepared), pool.instantiate(prepared)];
        const raw = new lib.RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB' } });
        const rawLease = raw.acquire(raw.image(new Uint8Array([9])), { initialBytes: 65536 });
        globalThis.keep = { leases, rawLease };
        parentPort.postMessage('holding');
        setInterval(() => { new Uint8Array(rawLease.buffer)[1]++; }, 1);
      \`;
      const results = [];
      for (let i = 0; i < 3; i++) {
        const worker = new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)));
        await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
        results.push(await worker.terminate());
      }
      const pool = lib.createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(secretModule);
      const lease = pool.instantiate(prepared);
      const head = new TextDecoder().decode(new Uint8Array(lease.memory.buffer, 0, 5));
      lease.release();
      pool.close();
      console.log(JSON.stringify({ results, head }));
    `);
    expectNormalExit(child);
    expect(lastJsonLine(child.stdout)).toEqual({ results: [1, 1, 1], head: 'image' });
  });

  it('garbage collection of leases and raw slot leases nobody released', async () => {
    const child = await runTsChild(`${PRELUDE}
      const gc = globalThis.gc;
      const pool = lib.createPool({ strategy: 'cow', limits: { maxSlots: 2 } });
      const prepared = await pool.prepare(secretModule);
      const raw = new lib.RawSlotPool({ limits: { maxSlots: 2, maxMemoryBytesPerSlot: '1MiB' } });
      const image = raw.image(new Uint8Array([1, 2]));
      (() => {
        for (let i = 0; i < 2; i++) new Uint8Array(pool.instantiate(prepared).memory.buffer).fill(0x42);
        new Uint8Array(raw.acquire(image, { initialBytes: PAGE }).buffer).fill(0x42);
      })();
      for (let i = 0; i < 30 && pool.stats().leases.reclaimed < 2; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
      const next = pool.instantiate(prepared);
      const head = new TextDecoder().decode(new Uint8Array(next.memory.buffer, 0, 5));
      next.release();
      console.log(JSON.stringify({ reclaimed: pool.stats().leases.reclaimed, head }));
    `, { nodeArgs: ['--expose-gc'] });
    expectNormalExit(child);
    expect(lastJsonLine(child.stdout)).toEqual({ reclaimed: 2, head: 'image' });
  });
});
