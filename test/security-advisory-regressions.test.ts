/**
 * One regression per class of advisory the most-used pooling allocator has
 * had, replayed against cowpool's own slot layout (copy, cow under every
 * implemented reset mode, and raw slots):
 *
 * - GHSA-wh6w-3828-g9qf: a slot kept the previous module's image. Here: with
 *   one slot, a module without an image (or with a shorter one) is served in
 *   the slot a module with a longer image just left (affinity eviction) and
 *   must see zeros past its own image.
 * - GHSA-44mr-8vmm-wjhg: no guard region for a memory with a zero-page limit.
 *   Here: the byte just past the initial size traps for the next tenant after
 *   a previous tenant grew; a 0-page memory traps on every access, and after a
 *   tenant grows it the next tenant again has 0 pages.
 * - GHSA-6wgr-89rj-399p: slot data (and permissions) not reset between
 *   instances. Here: a tenant that wrote every byte, global and table entry
 *   leaves nothing for the next tenant of the same slot.
 */
import { describe, expect, it } from 'vitest';
import { createPool, RawSlotPool, type InstancePool, type Lease, type PreparedModule, type ResetMode } from '../src/index.js';
import { resetModesSupport } from '../src/fuzz/reset-mode-support.js';
import { callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

const PAGE = 65536;
const MODES: ResetMode[] = (await resetModesSupport()).filter((s) => s.supported).map((s) => s.mode);
const POOLED = [
  { name: 'copy', strategy: 'copy' as const, mode: 'madvise' as ResetMode },
  ...MODES.map((mode) => ({ name: `cow/${mode}`, strategy: 'cow' as const, mode })),
];

const ACCESSORS = `
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "fillAll") (param i32) (memory.fill (i32.const 0) (local.get 0) (i32.mul (memory.size) (i32.const 65536))))`;

/** 3 pages; an image of two segments reaching into page 2. */
const WITH_IMAGE = `(module (memory (export "mem") 3 8)
  (data (i32.const 0) "${'LONG-IMAGE-'.repeat(400)}")
  (data (i32.const 140000) "tail of the long image")
  ${ACCESSORS})`;
/** Same memory shape, no data segment: starts all zeros. */
const WITHOUT_IMAGE = `(module (memory (export "mem") 3 8) ${ACCESSORS})`;
/** Same memory shape, an image of one short segment. */
const SHORT_IMAGE = `(module (memory (export "mem") 3 8) (data (i32.const 16) "short") ${ACCESSORS})`;

function bytes(lease: Lease): Uint8Array {
  return new Uint8Array((lease.memory as WebAssembly.Memory).buffer);
}

/** Index of the first non-zero byte at or after `from`, or -1. */
function firstNonZero(view: Uint8Array, from = 0): number {
  for (let i = from; i < view.length; i++) if (view[i] !== 0) return i;
  return -1;
}

async function prepared(pool: InstancePool, wat: string, name: string): Promise<PreparedModule> {
  return pool.prepare(await watModule(wat), { name });
}

const traps = (run: () => unknown): boolean => {
  const o = outcomeOf(run);
  return 'threw' in o && o.threw === 'RuntimeError';
};

describe.each(POOLED)('$name', ({ strategy, mode }) => {
  it('GHSA-wh6w-3828-g9qf: a module without an image, served in the slot a module with one just left, sees only zeros', async () => {
    const pool = createPool({ strategy, reset: { mode }, limits: { maxSlots: 1, maxUnusedWarmSlots: 1 } });
    const long = await prepared(pool, WITH_IMAGE, 'long.wasm');
    const none = await prepared(pool, WITHOUT_IMAGE, 'none.wasm');
    const short = await prepared(pool, SHORT_IMAGE, 'short.wasm');

    const first = pool.instantiate(long);
    const slotMemory = first.memory;
    expect(String.fromCharCode(...bytes(first).subarray(0, 10))).toBe('LONG-IMAGE');
    callExport(first.exports, 'store8', 3 * PAGE - 1, 0x5a);
    first.release();

    const second = pool.instantiate(none);
    // The same slot (its Memory object), taken from the other module: an eviction.
    expect(second.memory).toBe(slotMemory);
    expect(pool.stats().affinity.evicted).toBe(1);
    expect(firstNonZero(bytes(second))).toBe(-1);
    second.release();

    // Back to the long image, then a shorter one in the same slot: zeros past "short".
    pool.instantiate(long).release();
    const third = pool.instantiate(short);
    expect(third.memory).toBe(slotMemory);
    expect(String.fromCharCode(...bytes(third).subarray(16, 21))).toBe('short');
    expect(firstNonZero(bytes(third), 21)).toBe(-1);
    expect(firstNonZero(bytes(third).subarray(0, 16))).toBe(-1);
    third.release();
    expect(pool.stats().resetFailures).toBe(0);
    pool.close();
  });

  it('GHSA-44mr-8vmm-wjhg: the byte just past the initial size traps for the tenant after one that grew', async () => {
    const pool = createPool({ strategy, reset: { mode }, limits: { maxSlots: 1 } });
    // The image ends exactly at the end of the initial memory: nothing may be mapped past it.
    const full = await prepared(pool, `(module (memory (export "mem") 1 4) (data (i32.const 65528) "lastpage") ${ACCESSORS})`, 'full.wasm');
    const grower = pool.instantiate(full);
    expect(callExport(grower.exports, 'grow', 2)).toBe(1);
    callExport(grower.exports, 'store8', PAGE, 0x77);
    expect(callExport(grower.exports, 'load8', PAGE)).toBe(0x77);
    grower.release();

    for (let tenant = 0; tenant < 2; tenant++) {
      const next = pool.instantiate(full);
      expect(callExport(next.exports, 'size')).toBe(1);
      expect(next.memory?.buffer.byteLength).toBe(PAGE);
      expect(callExport(next.exports, 'load8', PAGE - 1)).toBe('e'.charCodeAt(0));
      expect(traps(() => callExport(next.exports, 'load8', PAGE))).toBe(true);
      expect(traps(() => callExport(next.exports, 'store8', PAGE, 1))).toBe(true);
      expect(traps(() => callExport(next.exports, 'load8', 4 * PAGE - 1))).toBe(true);
      next.release();
    }
    expect(pool.stats().resetFailures).toBe(0);
    pool.close();
  });

  it('GHSA-44mr-8vmm-wjhg: a 0-page memory traps on every access, and is 0 pages again after a tenant grew it', async () => {
    const pool = createPool({ strategy, reset: { mode }, limits: { maxSlots: 1 } });
    const empty = await prepared(pool, `(module (memory (export "mem") 0 2) ${ACCESSORS})`, 'zero.wasm');
    const fixed = await prepared(pool, `(module (memory (export "mem") 0 0) ${ACCESSORS})`, 'zero-max.wasm');
    for (let tenant = 0; tenant < 4; tenant++) {
      const lease = pool.instantiate(empty);
      expect(callExport(lease.exports, 'size')).toBe(0);
      expect(lease.memory?.buffer.byteLength).toBe(0);
      for (const address of [0, 1, 5, PAGE - 1, PAGE, 0x7fff_ffff, 0xffff_ffff]) {
        expect(traps(() => callExport(lease.exports, 'load8', address)), `load at ${address}`).toBe(true);
        expect(traps(() => callExport(lease.exports, 'store8', address, 1)), `store at ${address}`).toBe(true);
      }
      if (tenant === 1) {
        // This tenant grows the memory and writes into it; the next must not see a page of it.
        expect(callExport(lease.exports, 'grow', 1)).toBe(0);
        callExport(lease.exports, 'store8', 5, 0x42);
      }
      lease.release();
    }
    const capped = pool.instantiate(fixed);
    expect(callExport(capped.exports, 'grow', 1)).toBe(-1);
    expect(traps(() => callExport(capped.exports, 'load8', 0))).toBe(true);
    capped.release();
    expect(pool.stats().resetFailures).toBe(0);
    pool.close();
  });

  it('GHSA-6wgr-89rj-399p: a tenant that wrote every byte, global and table entry leaves nothing for the next', async () => {
    const pool = createPool({ strategy, reset: { mode }, limits: { maxSlots: 1 } });
    const wat = `(module (memory (export "mem") 2 4)
      (data (i32.const 100) "image bytes")
      (global (export "g") (mut i32) (i32.const 7))
      (table (export "tab") 2 funcref)
      (elem (i32.const 0) func $one)
      (elem declare func $evil)
      (func $one (result i32) (i32.const 1))
      (func $evil (result i32) (i32.const 666))
      (func (export "poison")
        (global.set 0 (i32.const 666))
        (table.fill 0 (i32.const 0) (ref.func $evil) (i32.const 2)))
      ${ACCESSORS})`;
    const module = await prepared(pool, wat, 'poison.wasm');
    const fresh = new WebAssembly.Instance(new WebAssembly.Module(await watModule(wat)));
    const expected = new Uint8Array((fresh.exports.mem as WebAssembly.Memory).buffer).slice();
    const first = pool.instantiate(module);
    callExport(first.exports, 'fillAll', 0xee);
    callExport(first.exports, 'poison');
    first.release();
    for (let tenant = 0; tenant < 3; tenant++) {
      const next = pool.instantiate(module);
      expect(Buffer.compare(bytes(next), expected)).toBe(0);
      expect((next.exports.g as WebAssembly.Global).value).toBe(7);
      const table = next.exports.tab as WebAssembly.Table;
      expect((table.get(0) as () => number)()).toBe(1);
      expect(table.get(1)).toBeNull();
      callExport(next.exports, 'fillAll', 0x11 * (tenant + 1));
      next.release();
    }
    expect(pool.stats().resetFailures).toBe(0);
    pool.close();
  });
});

describe.each(MODES)('raw slots, reset %s', (mode) => {
  it('GHSA-wh6w-3828-g9qf: no image, or a shorter one, in the slot a longer image just left: zeros past the image', () => {
    const pool = new RawSlotPool({ reset: { mode }, limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB' } });
    const long = pool.image(new Uint8Array(70_000).fill(0xaa));
    const short = pool.image(new Uint8Array([1, 2, 3]));
    const initialBytes = 3 * PAGE;
    const first = pool.acquire(long, { initialBytes });
    new Uint8Array(first.buffer).fill(0xbb, 70_000);
    const slot = first.slotId;
    first.release();

    const bare = pool.acquire(null, { initialBytes });
    expect(bare.slotId).toBe(slot);
    expect(firstNonZero(new Uint8Array(bare.buffer))).toBe(-1);
    bare.release();

    pool.acquire(long, { initialBytes }).release();
    const next = pool.acquire(short, { initialBytes });
    const view = new Uint8Array(next.buffer);
    expect([...view.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(firstNonZero(view, 3)).toBe(-1);
    next.release();
    expect(pool.stats().resetFailures).toBe(0);
    pool.close();
    long.release();
    short.release();
  });

  it('GHSA-6wgr-89rj-399p: a tenant that grew and wrote every byte leaves the next one its image, zeros and initial size', () => {
    const pool = new RawSlotPool({ reset: { mode }, limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB' } });
    const image = pool.image(new Uint8Array(5000).fill(0x33));
    const first = pool.acquire(image, { initialBytes: 2 * PAGE, maxBytes: 8 * PAGE });
    first.grow(3 * PAGE);
    new Uint8Array(first.buffer).fill(0xee);
    first.release();
    const next = pool.acquire(image, { initialBytes: 2 * PAGE, maxBytes: 8 * PAGE });
    const view = new Uint8Array(next.buffer);
    expect(view.length).toBe(2 * PAGE);
    expect(view.subarray(0, 5000).every((b) => b === 0x33)).toBe(true);
    expect(firstNonZero(view, 5000)).toBe(-1);
    next.release();
    pool.close();
    image.release();
  });
});
