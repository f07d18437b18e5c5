/**
 * Raw slot acquire+reset against the obvious alternative for a runtime that
 * links cowpool as its allocator: allocate a new ArrayBuffer and copy the
 * image in. Both sides run interleaved in one process; the result carries
 * medians and their ratio, never a lone absolute time as a claim.
 */
import { RawSlotPool } from '../pool/raw-slot-pool.js';
import { median } from '../util/statistics.js';

export interface RawSlotRatio {
  imageBytes: number;
  initialBytes: number;
  rounds: number;
  /** Median ns per acquire + touch + release from the pool. */
  pooledNs: number;
  /** Median ns per new ArrayBuffer + copy of the image + touch. */
  copyNs: number;
  /** copyNs / pooledNs: how many times faster the pool is. */
  ratio: number;
}

export function measureRawSlotRatio(options: { imageBytes?: number; initialBytes?: number; rounds?: number; batch?: number } = {}): RawSlotRatio {
  const imageBytes = options.imageBytes ?? 1 << 20;
  const initialBytes = options.initialBytes ?? 2 << 20;
  const rounds = options.rounds ?? 200;
  const batch = options.batch ?? 20;
  const bytes = new Uint8Array(imageBytes).map((_, i) => (i * 13) & 0xff);
  const pool = new RawSlotPool({ limits: { maxSlots: 2, maxMemoryBytesPerSlot: initialBytes * 2, guardBytes: '64KiB' } });
  const image = pool.image(bytes);
  let sink = 0;
  const pooled: number[] = [];
  const copied: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      let t = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) {
        const lease = pool.acquire(image, { initialBytes });
        const view = new Uint8Array(lease.buffer);
        view[i * 4096] = 1;
        sink += view[(i * 8192) % imageBytes] as number;
        lease.release();
      }
      pooled.push(Number(process.hrtime.bigint() - t) / batch);
      t = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) {
        const view = new Uint8Array(new ArrayBuffer(initialBytes));
        view.set(bytes);
        view[i * 4096] = 1;
        sink += view[(i * 8192) % imageBytes] as number;
      }
      copied.push(Number(process.hrtime.bigint() - t) / batch);
    }
  } finally {
    pool.close();
  }
  if (sink < 0) throw new Error('unreachable');
  const pooledNs = median(pooled);
  const copyNs = median(copied);
  return { imageBytes, initialBytes, rounds, pooledNs, copyNs, ratio: copyNs / pooledNs };
}
