import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';

// V8 slots rely on a WebAssembly.Memory's buffer never leaving its memory:
// the addon remaps those pages for the next tenant. V8 marks wasm memory
// buffers non-detachable, so transfer() throws and a transfer list either
// throws (Node 22+) or copies (Node 20). If a V8 or Node update changed that,
// a tenant could keep the next tenant's pages; these tests would fail first.

const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const why = hasTransfer ? '' : ` [skipped: ArrayBuffer.prototype.transfer needs Node >= 21, this is ${process.version}]`;

type Buf = ArrayBuffer & { transfer(): ArrayBuffer; transferToFixedLength(): ArrayBuffer };

/** A plain memory, and one whose first page the addon mapped from an image (a CoW slot). */
function memories(): { name: string; memory: WebAssembly.Memory }[] {
  const mapped = new WebAssembly.Memory({ initial: 2, maximum: 4 });
  const image = new (addon().Image)(new Uint8Array(100).fill(9));
  addon().mapImage(mapped.buffer, image, 0);
  image.release();
  return [
    { name: 'plain', memory: new WebAssembly.Memory({ initial: 2, maximum: 4 }) },
    { name: 'image-mapped', memory: mapped },
  ];
}

/** The memory is intact, and `other` (if any) is not a view of its pages. */
function expectNotMoved(memory: WebAssembly.Memory, other: ArrayBuffer | null): void {
  expect(memory.buffer.byteLength).toBe(2 * 65536);
  const bytes = new Uint8Array(memory.buffer);
  bytes[5] = 0x5a;
  expect(bytes[5]).toBe(0x5a);
  if (other !== null) {
    const copy = new Uint8Array(other);
    copy[6] = 0x77;
    expect(bytes[6]).not.toBe(0x77);
    bytes[7] = 0x33;
    expect(copy[7]).not.toBe(0x33);
  }
}

describe('WebAssembly.Memory buffers cannot be moved out', () => {
  for (const method of ['transfer', 'transferToFixedLength'] as const) {
    it.skipIf(!hasTransfer)(`${method}() throws a TypeError and leaves the memory intact${why}`, () => {
      for (const { name, memory } of memories()) {
        expect(() => (memory.buffer as Buf)[method](), name).toThrow(TypeError);
        expectNotMoved(memory, null);
      }
    });
  }

  it('structuredClone with a transfer list throws or copies, never moves', () => {
    for (const { name, memory } of memories()) {
      const buffer = memory.buffer;
      let clone: ArrayBuffer | null = null;
      try {
        clone = structuredClone(buffer, { transfer: [buffer] });
      } catch (e) {
        expect((e as Error).name, name).toBe('DataCloneError');
      }
      expect(buffer.byteLength, name).toBe(2 * 65536);
      expectNotMoved(memory, clone);
    }
  });

  it('postMessage with a transfer list throws or copies, never moves', () => {
    for (const { name, memory } of memories()) {
      const buffer = memory.buffer;
      const { port1, port2 } = new MessageChannel();
      let received: ArrayBuffer | null = null;
      try {
        port1.postMessage(buffer, [buffer]);
        received = (receiveMessageOnPort(port2)?.message ?? null) as ArrayBuffer | null;
      } catch (e) {
        expect((e as Error).name, name).toBe('DataCloneError');
      } finally {
        port1.close();
        port2.close();
      }
      expect(buffer.byteLength, name).toBe(2 * 65536);
      expectNotMoved(memory, received);
    }
  });
});
