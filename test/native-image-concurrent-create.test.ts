import { readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { ADDON_PATH } from './helpers/native-child.js';

/**
 * Images are created outside the registry lock, so threads asking for the
 * same bytes at once may each build a memfd; exactly one must be kept and
 * every thread must get it.
 */
/** Open descriptors of image memfds in this process. */
function imageFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes('cowpool-image')) n++;
    } catch {
      // The directory's own descriptor is gone by the time it is read.
    }
  }
  return n;
}

describe('image registry: concurrent creation', () => {
  it('threads creating the same 16 MiB image at once all get one memfd, and the losers\' files are closed', async () => {
    const before = addon().liveImages();
    const fdsBefore = imageFds();
    const threads = 4;
    const shared = new SharedArrayBuffer(4);
    const gate = new Int32Array(shared);
    const workers = Array.from({ length: threads }, () => new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const fs = require('node:fs');
       const addon = require(workerData.path);
       const bytes = new Uint8Array(16 << 20);
       for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i >> 12) & 0xff;
       const gate = new Int32Array(workerData.shared);
       Atomics.add(gate, 0, 1);
       while (Atomics.load(gate, 0) < workerData.threads) {}
       const image = new addon.Image(bytes);
       parentPort.postMessage({ fd: image.fd, inode: fs.fstatSync(image.fd).ino, live: addon.liveImages() });
       parentPort.once('message', () => { image.release(); parentPort.postMessage('released'); });`,
      { eval: true, workerData: { path: ADDON_PATH, shared, threads } },
    ));
    const firsts = workers.map((w) => new Promise<{ fd: number; inode: number; live: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const seen = await Promise.all(firsts);
    expect(gate[0]).toBe(threads);
    expect(new Set(seen.map((s) => s.inode)).size).toBe(1);
    expect(new Set(seen.map((s) => s.fd)).size).toBe(1);
    expect(addon().liveImages()).toBe(before + 1);
    // The images built by threads that lost the race were closed, not leaked.
    expect(imageFds()).toBe(fdsBefore + 1);
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.postMessage('release');
    })));
    await Promise.all(workers.map((w) => w.terminate()));
    expect(addon().liveImages()).toBe(before);
    expect(imageFds()).toBe(fdsBefore);
  });
});
