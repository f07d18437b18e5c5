import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { ADDON_PATH } from './helpers/native-child.js';

function expectErrno(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'the operation should have failed').toBeDefined();
  expect((caught as NodeJS.ErrnoException).code).toBe(code);
}

describe('image: a sealed, shared, immutable memfd', () => {
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);

  it('carries all four seals and a page-rounded size', () => {
    const image = new (addon().Image)(bytes);
    try {
      expect(image.seals()).toEqual({ write: true, shrink: true, grow: true, seal: true });
      expect(image.byteLength).toBe(12_288);
      expect(image.dataLength).toBe(10_000);
      expect(fstatSync(image.fd).size).toBe(12_288);
    } finally {
      image.release();
    }
  });

  it('refuses writes and truncation with EPERM', () => {
    const image = new (addon().Image)(bytes);
    try {
      expectErrno(() => writeSync(image.fd, Buffer.from([1]), 0, 1, 0), 'EPERM');
      expectErrno(() => ftruncateSync(image.fd, 0), 'EPERM');
      expectErrno(() => ftruncateSync(image.fd, 1 << 20), 'EPERM');
      // A second descriptor for the same file is sealed too.
      const again = openSync(`/proc/self/fd/${image.fd}`, 'r+');
      try {
        expectErrno(() => writeSync(again, Buffer.from([1]), 0, 1, 100), 'EPERM');
      } finally {
        closeSync(again);
      }
    } finally {
      image.release();
    }
  });

  it('is shared by content: identical bytes reuse one memfd, different bytes do not', () => {
    const a = new (addon().Image)(bytes);
    const b = new (addon().Image)(bytes.slice());
    const other = bytes.slice();
    other[9_999] = (other[9_999] as number) ^ 1;
    const c = new (addon().Image)(other);
    try {
      expect(b.fd).toBe(a.fd);
      expect(b.hash).toBe(a.hash);
      expect(c.fd).not.toBe(a.fd);
    } finally {
      a.release();
      b.release();
      c.release();
    }
  });

  it('is freed with its last holder', () => {
    const before = addon().liveImages();
    const a = new (addon().Image)(new Uint8Array([1, 2, 3, 4, 5]));
    const b = new (addon().Image)(new Uint8Array([1, 2, 3, 4, 5]));
    expect(addon().liveImages()).toBe(before + 1);
    a.release();
    expect(addon().liveImages()).toBe(before + 1);
    b.release();
    b.release();
    expect(addon().liveImages()).toBe(before);
    expect(() => b.byteLength).toThrow(/released/);
  });

  it('is shared across worker_threads of one process', async () => {
    const image = new (addon().Image)(bytes);
    try {
      const workerFd = await new Promise<number>((resolve, reject) => {
        const worker = new Worker(
          `const { parentPort, workerData } = require('node:worker_threads');
           const addon = require(workerData.path);
           const image = new addon.Image(new Uint8Array(workerData.bytes));
           parentPort.postMessage(image.fd);
           image.release();`,
          { eval: true, workerData: { path: ADDON_PATH, bytes: Array.from(bytes) } },
        );
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(workerFd).toBe(image.fd);
    } finally {
      image.release();
    }
  });

  it('rejects an empty image and a non-Uint8Array with INVALID_ARGUMENT', () => {
    expect(() => new (addon().Image)(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new (addon().Image)([1, 2] as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
