/**
 * An image as long as the memory it serves: the data, then holes up to the
 * requested length. The holes hold no memory until a tenant touches the page
 * (blocks counted by fstat), restores never read them, and the length is part
 * of the image's identity.
 */
import { fstatSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addon, NativeResetMode } from '../src/native/addon.js';
import { rangeSmaps } from './support/smaps.js';

const PAGE = addon().pageSize;
const WASM_PAGE = 65536;

/** Pages of the memfd that hold memory (st_blocks is in 512-byte units). */
function filePages(fd: number): number {
  return (fstatSync(fd).blocks * 512) / PAGE;
}

/**
 * Resident bytes of the addon's own read-only view of the image: the
 * mapping of the memfd's inode that is not the memory at `memoryAddress`.
 */
function viewRss(fd: number, memoryAddress: bigint): number {
  const inode = String(fstatSync(fd).ino);
  let rss = 0;
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)/.exec(line);
    if (m === null || m[3] !== inode) continue;
    const start = BigInt(`0x${m[1]}`);
    if (start === memoryAddress) continue;
    rss += rangeSmaps(start, Number(BigInt(`0x${m[2]}`) - start)).rss;
  }
  return rss;
}

describe('image: a sparse tail up to the memory size', () => {
  const data = new Uint8Array(10_000).map((_, i) => (i * 7) | 1);

  it('is the requested length, sealed, with memory only under the data', () => {
    const image = new (addon().Image)(data, 16 * WASM_PAGE);
    try {
      expect(image.byteLength).toBe(16 * WASM_PAGE);
      expect(image.dataLength).toBe(10_000);
      expect(fstatSync(image.fd).size).toBe(16 * WASM_PAGE);
      expect(image.seals()).toEqual({ write: true, shrink: true, grow: true, seal: true });
      expect(filePages(image.fd)).toBe(3);
    } finally {
      image.release();
    }
  });

  it('serves a memory without data: all holes, no memory at all', () => {
    const image = new (addon().Image)(new Uint8Array(0), 4 * WASM_PAGE);
    try {
      expect(image.byteLength).toBe(4 * WASM_PAGE);
      expect(image.dataLength).toBe(0);
      expect(filePages(image.fd)).toBe(0);
    } finally {
      image.release();
    }
  });

  it('is keyed by data and length: the same data in another memory size is another file', () => {
    const a = new (addon().Image)(data, 16 * WASM_PAGE);
    const b = new (addon().Image)(data.slice(), 16 * WASM_PAGE);
    const c = new (addon().Image)(data, 32 * WASM_PAGE);
    const d = new (addon().Image)(data);
    const e = new (addon().Image)(new Uint8Array(0), 16 * WASM_PAGE);
    const f = new (addon().Image)(new Uint8Array(0), 32 * WASM_PAGE);
    try {
      expect(b.fd).toBe(a.fd);
      expect(new Set([a.fd, c.fd, d.fd, e.fd, f.fd]).size).toBe(5);
      expect(new Set([a.hash, c.hash, d.hash, e.hash, f.hash]).size).toBe(5);
    } finally {
      for (const image of [a, b, c, d, e, f]) image.release();
    }
  });

  it("keep-resident over the whole memory copies the data and zeroes the rest without reading the view's holes", () => {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 16 });
    const image = new (addon().Image)(data, 16 * WASM_PAGE);
    try {
      addon().mapImage(memory.buffer, image, 0);
      const view = new Uint8Array(memory.buffer);
      view[200 * PAGE] = 9;
      addon().resetMemory(memory.buffer, image, NativeResetMode.keepResident, 16 * WASM_PAGE);
      expect(view[200 * PAGE]).toBe(0);
      expect(view[9_999]).toBe(data[9_999]);
      // The copy read the view's data pages only; its holes were never
      // read (reading them would make them resident in the view).
      expect(viewRss(image.fd, addon().memoryAddress(memory.buffer))).toBe(3 * PAGE);
    } finally {
      image.release();
    }
  });

  it('refuses a length that is not a page multiple, shorter than the data or over 4 GiB', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' });
    expect(() => new (addon().Image)(data, 3 * PAGE + 1)).toThrow(invalid);
    expect(() => new (addon().Image)(data, PAGE)).toThrow(invalid);
    expect(() => new (addon().Image)(data, 2 ** 32 + PAGE)).toThrow(invalid);
    expect(() => new (addon().Image)(data, -PAGE)).toThrow(invalid);
  });
});
