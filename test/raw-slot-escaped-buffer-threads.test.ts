import { describe, expect, it } from 'vitest';
import { runChild } from './support/child-process.js';

// Node refuses a transfer list holding a raw slot's own buffer (22+) or
// copies it (20), but the buffer `transfer()` returns is a plain ArrayBuffer
// over the same pages, and that one can be posted to another thread. The
// escaped pages must then outlive the tenant, the slot, and even the thread
// that owns the slot. Crashes are possible: child processes.

const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const why = hasTransfer ? '' : ` [skipped: ArrayBuffer.prototype.transfer needs Node >= 21, this is ${process.version}]`;

function run(body: string): Record<string, unknown> {
  const r = runChild(`
    const { Worker } = await import('node:worker_threads');
    const PAGE = 4096;
    const out = {};
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    ${body}
    console.log(JSON.stringify(out));
  `, {}, ['--expose-gc']);
  expect(r.signal, `child died by ${r.signal}; stderr: ${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

describe('raw slots: a moved buffer posted to another thread', () => {
  it.skipIf(!hasTransfer)(`a worker holding it never sees the next tenant; the slot is unmapped after the worker ends${why}`, () => {
    const out = run(`
      const { RawSlotPool } = await import(SRC + 'pool/raw-slot-pool.js');
      const pool = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB', guardBytes: '64KiB' } });
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        let held = null;
        parentPort.on('message', (m) => {
          if (m === 'read') parentPort.postMessage([held.length, held[0], held[held.length - 1]]);
          else { held = new Uint8Array(m); parentPort.postMessage('got'); }
        });\`, { eval: true, execArgv: [] });
      const reply = () => new Promise((resolve) => worker.once('message', resolve));
      const lease = pool.acquire(null, { initialBytes: 4 * PAGE });
      new Uint8Array(lease.buffer).fill(7);
      const moved = lease.buffer.transfer();
      worker.postMessage(moved, [moved]);
      await reply();
      lease.release();
      const next = pool.acquire(null, { initialBytes: 4 * PAGE });
      const mine = new Uint8Array(next.buffer);
      out.nextStart = mine[0];
      mine.fill(0x42);
      worker.postMessage('read');
      out.workerSees = await reply();
      next.release();
      out.held = pool.stats().escapes.held;
      await worker.terminate();
      for (let i = 0; i < 50 && pool.stats().escapes.held > 0; i++) { globalThis.gc(); await sleep(10); }
      out.heldAfterWorker = pool.stats().escapes.held;
      pool.close();
    `);
    expect(out.nextStart).toBe(0);
    expect(out.workerSees).toEqual([4 * 4096, 7, 7]);
    expect(out.held).toBe(1);
    expect(out.heldAfterWorker).toBe(0);
  });

  it.skipIf(!hasTransfer)(`stays mapped after the worker that owned the slot has exited (no SIGSEGV)${why}`, () => {
    const out = run(`
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        const addon = require(process.env.COWPOOL_NATIVE_PATH);
        const slot = new addon.RawSlot(1 << 20, 1 << 16);
        slot.configure(null, 4 * 4096);
        new Uint8Array(slot.buffer()).fill(5);
        const moved = slot.buffer().transfer();
        parentPort.postMessage(moved, [moved]);
        slot.destroy();\`, { eval: true, execArgv: [] });
      const moved = new Uint8Array(await new Promise((resolve) => worker.once('message', resolve)));
      await new Promise((resolve) => worker.once('exit', resolve));
      for (let i = 0; i < 5; i++) { globalThis.gc(); await sleep(10); }
      out.moved = [moved.length, moved[0], moved[moved.length - 1]];
      moved.fill(6);
      out.after = moved[100];
    `);
    expect(out.moved).toEqual([4 * 4096, 5, 5]);
    expect(out.after).toBe(6);
  });
});

describe('raw slots: a worker that ends with its lease out', () => {
  it.skipIf(!hasTransfer)(`a buffer it moved to the main thread, unseen by the slot, stays mapped (no SIGSEGV)${why}`, () => {
    const out = run(`
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        const addon = require(process.env.COWPOOL_NATIVE_PATH);
        const slot = new addon.RawSlot(1 << 20, 1 << 16);
        slot.configure(null, 4 * 4096);
        new Uint8Array(slot.buffer()).fill(8);
        const moved = slot.buffer().transfer();
        parentPort.postMessage(moved, [moved]);\`, { eval: true, execArgv: [] });
      const moved = new Uint8Array(await new Promise((resolve) => worker.once('message', resolve)));
      await new Promise((resolve) => worker.once('exit', resolve));
      for (let i = 0; i < 5; i++) { globalThis.gc(); await sleep(10); }
      out.moved = [moved.length, moved[0], moved[moved.length - 1]];
    `);
    expect(out.moved).toEqual([4 * 4096, 8, 8]);
  });
});
