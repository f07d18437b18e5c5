import { describe, expect, it } from 'vitest';
import { createPool, type PreparedModule, type Strategy } from '../src/index.js';
import { forcedGc } from './helpers/forced-gc.js';

const MiB = 1 << 20;
const DATA = 64 * MiB;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** A module whose one active segment fills 64 MiB at 0 (0x5a, then 0xa5 in the last byte), memory exported. */
function bigDataModule(): Uint8Array {
  const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
  const head = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(5, [1, 0x00, ...leb(DATA / 65536 + 1)]),
    ...section(7, [1, 6, ...Buffer.from('memory'), 0x02, 0]),
  ];
  const segmentHead = [1, 0x00, 0x41, 0x00, 0x0b, ...leb(DATA)];
  const dataHead = [11, ...leb(segmentHead.length + DATA), ...segmentHead];
  const bytes = new Uint8Array(head.length + dataHead.length + DATA);
  bytes.set(head, 0);
  bytes.set(dataHead, head.length);
  bytes.fill(0x5a, head.length + dataHead.length);
  bytes[bytes.length - 1] = 0xa5;
  return bytes;
}

/**
 * `process.memoryUsage().arrayBuffers` once collections stop freeing: V8
 * frees a dead ArrayBuffer's bytes after the collection that found it, so one
 * gc() is not enough; collect until two readings in a row agree.
 */
async function settledArrayBuffers(): Promise<number> {
  const gc = forcedGc();
  let last = Number.NaN;
  for (let round = 0; round < 50; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const now = process.memoryUsage().arrayBuffers;
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** JS-heap bytes (ArrayBuffers) a prepared module keeps once its input is gone. */
async function prepareAndMeasure(strategy: Strategy): Promise<{ held: number; prepared: PreparedModule; close: () => void }> {
  const pool = createPool({ strategy, limits: { maxSlots: 1 } });
  const before = await settledArrayBuffers();
  const prepared = await (async () => pool.prepare(bigDataModule()))();
  const held = (await settledArrayBuffers()) - before;
  return { held, prepared, close: () => pool.close() };
}

function expectData(prepared: PreparedModule, pool: { instantiate: (p: PreparedModule) => { memory: WebAssembly.Memory | null; release(): void } }): void {
  const lease = pool.instantiate(prepared);
  const view = new Uint8Array((lease.memory as WebAssembly.Memory).buffer);
  expect([view[0], view[DATA - 2], view[DATA - 1], view[DATA]]).toEqual([0x5a, 0x5a, 0xa5, 0]);
  lease.release();
}

describe('a prepared module keeps its image in the JS heap only where the copy strategy reads it', () => {
  it('cow: no JS copy of a 64 MiB image (the memfd holds it); copy: the data bytes, once', async () => {
    const cow = await prepareAndMeasure('cow');
    const copy = await prepareAndMeasure('copy');
    try {
      console.log(`arrayBuffers held by a prepared 64 MiB-data module: cow ${(cow.held / MiB).toFixed(2)} MiB, copy ${(copy.held / MiB).toFixed(2)} MiB`);
      expect(cow.prepared.cow).toBe(true);
      expect(cow.held).toBeLessThan(DATA / 8);
      expect('image' in cow.prepared.layout).toBe(false);
      expect(cow.prepared.image.bytes).toBeNull();
      expect(cow.prepared.image.dataLength).toBe(DATA);
      // The control: the same measure sees the bytes the copy strategy keeps.
      expect(copy.prepared.pooled).toBe(true);
      expect('image' in copy.prepared.layout).toBe(false);
      expect(copy.prepared.image.bytes?.length).toBe(DATA);
      expect(copy.prepared.image.dataLength).toBe(DATA);
      expect(copy.held).toBeGreaterThanOrEqual(DATA);
      expect(copy.held).toBeLessThan(DATA + DATA / 8);
    } finally {
      cow.close();
      copy.close();
    }
  });

  it('both strategies still serve the data', async () => {
    for (const strategy of ['cow', 'copy'] as const) {
      const pool = createPool({ strategy, limits: { maxSlots: 1 } });
      try {
        const prepared = await pool.prepare(bigDataModule());
        expectData(prepared, pool);
        expectData(prepared, pool);
      } finally {
        pool.close();
      }
    }
  });
});
