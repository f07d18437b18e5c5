/**
 * preview1 calls about the process rather than files: arguments, the
 * environment, clocks, randomness, exit, yield and poll_oneoff. Each takes
 * the current run (`ctx`) and the raw wasm arguments, and returns an errno;
 * pointers go through guest-memory.ts, so a bad one is EFAULT.
 */
import { randomFillSync } from 'node:crypto';
import { guestBytes, guestView, writeU32, writeU64 } from './guest-memory.js';
import { CLOCK, ERRNO, EVENTTYPE, SIZE, SUBCLOCK_ABSTIME } from './wasi-abi.js';
import type { WasiRun } from './wasi-run.js';

/** Realtime = monotonic + this offset (ns), fixed when the module loads. */
const REALTIME_OFFSET = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now on clock `id` in ns, or null for a clock preview1 does not define. */
export function clockNow(id: number): bigint | null {
  switch (id) {
    case CLOCK.REALTIME:
      return process.hrtime.bigint() + REALTIME_OFFSET;
    case CLOCK.MONOTONIC:
      return process.hrtime.bigint();
    case CLOCK.PROCESS_CPUTIME:
    case CLOCK.THREAD_CPUTIME: {
      const usage = process.cpuUsage();
      return BigInt(usage.user + usage.system) * 1000n;
    }
    default:
      return null;
  }
}

function clockResolution(id: number): bigint | null {
  if (id === CLOCK.REALTIME || id === CLOCK.MONOTONIC) return 1n;
  if (id === CLOCK.PROCESS_CPUTIME || id === CLOCK.THREAD_CPUTIME) return 1000n;
  return null;
}

/** Writes a list of NUL-terminated strings the way args_get/environ_get do. */
function writeList(run: WasiRun, list: readonly Uint8Array[], pointersPtr: number, bufferPtr: number): number {
  const total = list.reduce((sum, item) => sum + item.length, 0);
  const pointers = guestView(run, pointersPtr, list.length * 4);
  const buffer = guestBytes(run, bufferPtr, total);
  let offset = 0;
  list.forEach((item, i) => {
    pointers.setUint32(i * 4, ((bufferPtr >>> 0) + offset) >>> 0, true);
    buffer.set(item, offset);
    offset += item.length;
  });
  return ERRNO.SUCCESS;
}

function writeSizes(run: WasiRun, list: readonly Uint8Array[], countPtr: number, sizePtr: number): number {
  guestView(run, countPtr, 4);
  guestView(run, sizePtr, 4);
  writeU32(run, countPtr, list.length);
  writeU32(run, sizePtr, list.reduce((sum, item) => sum + item.length, 0));
  return ERRNO.SUCCESS;
}

/** One Int32 to wait on: Atomics.wait is the only synchronous sleep. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps `ns`, but never past the run's deadline (then the next entry check throws). */
function sleepWithin(run: WasiRun, ns: bigint): void {
  let ms = Number(ns) / 1e6;
  if (run.deadline !== null) ms = Math.min(ms, Math.max(0, run.deadline - performance.now()) + 0.001);
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
  run.enter('poll_oneoff');
}

function pollOneoff(run: WasiRun, inPtr: number, outPtr: number, count: number, neventsPtr: number): number {
  const n = count >>> 0;
  if (n === 0) return ERRNO.INVAL;
  const subs = guestView(run, inPtr, n * SIZE.SUBSCRIPTION);
  const events = guestView(run, outPtr, n * SIZE.EVENT);
  guestView(run, neventsPtr, 4);
  const ready: { userdata: bigint; error: number; type: number; nbytes: bigint }[] = [];
  const clocks: { userdata: bigint; waitNs: bigint }[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * SIZE.SUBSCRIPTION;
    const userdata = subs.getBigUint64(at, true);
    const tag = subs.getUint8(at + 8);
    if (tag === EVENTTYPE.CLOCK) {
      const id = subs.getUint32(at + 16, true);
      const timeout = subs.getBigUint64(at + 24, true);
      const flags = subs.getUint16(at + 40, true);
      const now = clockNow(id);
      if (now === null) {
        ready.push({ userdata, error: ERRNO.INVAL, type: tag, nbytes: 0n });
        continue;
      }
      const wait = (flags & SUBCLOCK_ABSTIME) !== 0 ? timeout - now : timeout;
      clocks.push({ userdata, waitNs: wait > 0n ? wait : 0n });
    } else if (tag === EVENTTYPE.FD_READ || tag === EVENTTYPE.FD_WRITE) {
      // Every descriptor of this host is ready at once: stdio is in memory, files are read-only.
      const entry = run.fds.get(subs.getUint32(at + 16, true));
      let nbytes = 0n;
      if (entry?.kind === 'stdin') nbytes = BigInt(run.options.stdin.length - run.stdinPosition);
      else if (entry?.kind === 'file') nbytes = BigInt(Math.max(0, entry.file.size - entry.position));
      ready.push({ userdata, error: entry === undefined ? ERRNO.BADF : ERRNO.SUCCESS, type: tag, nbytes });
    } else {
      ready.push({ userdata, error: ERRNO.INVAL, type: tag, nbytes: 0n });
    }
  }
  if (ready.length === 0) {
    const soonest = clocks.reduce((min, c) => (c.waitNs < min ? c.waitNs : min), clocks[0]?.waitNs ?? 0n);
    sleepWithin(run, soonest);
    for (const c of clocks) if (c.waitNs <= soonest) ready.push({ userdata: c.userdata, error: ERRNO.SUCCESS, type: EVENTTYPE.CLOCK, nbytes: 0n });
  }
  ready.forEach((event, i) => {
    const at = i * SIZE.EVENT;
    for (let b = 0; b < SIZE.EVENT; b++) events.setUint8(at + b, 0);
    events.setBigUint64(at, event.userdata, true);
    events.setUint16(at + 8, event.error, true);
    events.setUint8(at + 10, event.type);
    events.setBigUint64(at + 16, event.nbytes, true);
  });
  writeU32(run, neventsPtr, ready.length);
  return ERRNO.SUCCESS;
}

export const processCalls = {
  args_sizes_get: (run: WasiRun, countPtr: number, sizePtr: number) => writeSizes(run, run.options.args, countPtr, sizePtr),
  args_get: (run: WasiRun, argvPtr: number, bufPtr: number) => writeList(run, run.options.args, argvPtr, bufPtr),
  environ_sizes_get: (run: WasiRun, countPtr: number, sizePtr: number) => writeSizes(run, run.options.env, countPtr, sizePtr),
  environ_get: (run: WasiRun, envPtr: number, bufPtr: number) => writeList(run, run.options.env, envPtr, bufPtr),

  clock_res_get(run: WasiRun, id: number, resultPtr: number): number {
    const resolution = clockResolution(id);
    if (resolution === null) return ERRNO.INVAL;
    writeU64(run, resultPtr, resolution);
    return ERRNO.SUCCESS;
  },

  clock_time_get(run: WasiRun, id: number, _precision: bigint, resultPtr: number): number {
    const now = clockNow(id);
    if (now === null) return ERRNO.INVAL;
    writeU64(run, resultPtr, now);
    return ERRNO.SUCCESS;
  },

  random_get(run: WasiRun, bufPtr: number, length: number): number {
    const bytes = guestBytes(run, bufPtr, length);
    // randomFillSync takes at most 2^31 - 1 bytes per call.
    for (let at = 0; at < bytes.length; at += 1 << 20) randomFillSync(bytes.subarray(at, at + (1 << 20)));
    return ERRNO.SUCCESS;
  },

  proc_exit(run: WasiRun, code: number): number {
    return run.exit(code);
  },

  sched_yield: (_run: WasiRun) => ERRNO.SUCCESS,

  poll_oneoff: pollOneoff,
};
