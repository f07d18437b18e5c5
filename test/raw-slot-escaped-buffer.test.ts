import { describe, expect, it } from 'vitest';
import { runChild } from './support/child-process.js';

// A raw slot's buffer is an external ArrayBuffer. JavaScript can move its
// backing store into an ArrayBuffer the addon never sees (transfer,
// transferToFixedLength, structuredClone or postMessage with a transfer
// list). Whoever holds the moved buffer must keep seeing its own tenant's
// bytes: the slot is never reset, reused, truncated or unmapped under it.
// Reading a page past a mapped file's end raises SIGBUS and reading an
// unmapped range SIGSEGV, so every scenario runs in a child process.

const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

const ESCAPES = [
  { name: 'transfer()', code: 'b.transfer()', needsTransfer: true },
  { name: 'transferToFixedLength()', code: 'b.transferToFixedLength()', needsTransfer: true },
  { name: 'structuredClone with a transfer list', code: 'structuredClone(b, { transfer: [b] })', needsTransfer: false },
  {
    name: 'MessageChannel postMessage with a transfer list',
    code: '(() => { const { port1, port2 } = new MessageChannel(); port1.postMessage(b, [b]); const m = receiveMessageOnPort(port2).message; port1.close(); port2.close(); return m; })()',
    needsTransfer: false,
  },
] as const;

const PRELUDE = `
const { MessageChannel, receiveMessageOnPort } = await import('node:worker_threads');
const { readFileSync } = await import('node:fs');
const { RawSlotPool } = await import(SRC + 'pool/raw-slot-pool.js');
const PAGE = 4096;
const slotMaps = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes('memfd:cowpool-slot')).length;
const pool = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB', guardBytes: '64KiB' } });
const out = {};
`;

// \`escape(b)\` records in out.how whether the runtime moved the backing store
// (the original reads detached), copied it, or refused; Node 22+ refuse
// transfer lists of external buffers, Node 20 copies them.
function run(escape: string, body: string, nodeArgs: readonly string[] = []) {
  const script = `${PRELUDE}
const escape = (b) => {
  try {
    const m = ${escape};
    out.how = b.byteLength === 0 ? 'moved' : 'copied';
    return m;
  } catch (e) {
    out.how = 'refused: ' + e.name;
    return b.slice(0);
  }
};
${body}
console.log(JSON.stringify(out));`;
  const r = runChild(script, {}, nodeArgs);
  expect(r.signal, `child died by ${r.signal}; stderr: ${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

describe.each(ESCAPES)('raw slots: a buffer moved out by $name', ({ code, needsTransfer }) => {
  const skip = needsTransfer && !hasTransfer;
  const why = skip ? ` [skipped: ArrayBuffer.prototype.transfer needs Node >= 21, this is ${process.version}]` : '';

  it.skipIf(skip)(`never shows the next tenant's bytes, and the next tenant sees none of its own${why}`, () => {
    const out = run(code, `
      const first = pool.acquire(null, { initialBytes: 4 * PAGE });
      new Uint8Array(first.buffer).fill(7);
      const moved = new Uint8Array(escape(first.buffer));
      first.release();
      const next = pool.acquire(null, { initialBytes: 4 * PAGE });
      const mine = new Uint8Array(next.buffer);
      out.nextStart = [mine[0], mine[4 * PAGE - 1]];
      mine.fill(0x42);
      out.moved = [moved.length, moved[0], moved[4 * PAGE - 1]];
      moved.fill(9);
      out.nextAfter = [mine[0], mine[4 * PAGE - 1]];
      next.release();
      out.escapes = pool.stats().escapes;
    `);
    expect(out.nextStart).toEqual([0, 0]);
    expect(out.moved).toEqual([4 * 4096, 7, 7]);
    expect(out.nextAfter).toEqual([0x42, 0x42]);
    if (needsTransfer) expect(out.how).toBe('moved');
    const moved = out.how === 'moved' ? 1 : 0;
    expect(out.escapes).toEqual({ quarantined: moved, held: moved });
  });

  it.skipIf(skip)(`stays readable after the reset that shrinks the slot (no SIGBUS)${why}`, () => {
    const out = run(code, `
      const lease = pool.acquire(null, { initialBytes: 4 * PAGE, maxBytes: 16 * PAGE });
      lease.grow(12 * PAGE);
      new Uint8Array(lease.buffer).fill(5);
      const moved = new Uint8Array(escape(lease.buffer));
      lease.release();
      const next = pool.acquire(null, { initialBytes: 4 * PAGE });
      next.release();
      out.moved = [moved.length, moved[0], moved[16 * PAGE - 1]];
    `);
    expect(out.moved).toEqual([16 * 4096, 5, 5]);
  });

  it.skipIf(skip)(`stays mapped after close() until it is collected (no SIGSEGV)${why}`, () => {
    const out = run(code, `
      const mapsBefore = slotMaps();
      const lease = pool.acquire(null, { initialBytes: 4 * PAGE });
      new Uint8Array(lease.buffer).fill(3);
      let moved = new Uint8Array(escape(lease.buffer));
      lease.release();
      pool.close();
      out.moved = [moved.length, moved[0], moved[4 * PAGE - 1]];
      out.heldAfterClose = pool.stats().escapes.held;
      out.mappedAfterClose = slotMaps() > mapsBefore;
      moved = null;
      for (let i = 0; i < 20 && pool.stats().escapes.held > 0; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      out.heldAfterGc = pool.stats().escapes.held;
      out.mappedAfterGc = slotMaps() > mapsBefore;
    `, ['--expose-gc']);
    expect(out.moved).toEqual([4 * 4096, 3, 3]);
    const moved = out.how === 'moved';
    expect(out.heldAfterClose).toBe(moved ? 1 : 0);
    expect(out.mappedAfterClose).toBe(moved);
    // The last holder is gone: the quarantined slot is unmapped.
    expect(out.heldAfterGc).toBe(0);
    expect(out.mappedAfterGc).toBe(false);
  });
});
