/**
 * What one tenant leaves behind never reaches the next tenant of the same
 * slot: tenant A writes secrets everywhere it can reach — every byte of every
 * page of memory (from wasm and from JS), every mutable global, every table
 * entry, an externref global, and (in its own test) grows memory and tables —
 * and tenant B then observes exactly what a brand-new plain V8 instance
 * observes. The slot really is the same one (same Memory object, affinity
 * hits counted), so the test cannot pass by handing out new memories.
 */
import { describe, expect, it } from 'vitest';
import { createPool, RESET_MODES, type Lease, type ResetMode, type Strategy } from '../src/index.js';
import { callExport, firstDifference, memoryBytes, tableEntries } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

/**
 * A module whose state is reachable from JS: memory, globals and tables,
 * exported or through accessors. Its image ends at `imageEnd`, well short of
 * the 3-page memory, so the zero part past the image is as much a part of
 * every check as the image itself (an image that filled the memory would let
 * a reset that skips the zero part pass).
 */
function tenantModule(imageText: string, imageEnd = 100_000): string {
  return `(module
    (memory (export "mem") 3 6)
    (data (i32.const 0) "${imageText}-start")
    (data (i32.const 70000) "${imageText}-middle")
    (data (i32.const ${imageEnd}) "${imageText.slice(0, 8)}")
    (global $g32 (export "g32") (mut i32) (i32.const 1))
    (global $g64 (mut i64) (i64.const 2))
    (global $gf (export "gf") (mut f64) (f64.const 3.5))
    (global $gr (mut externref) (ref.null extern))
    (type $v (func (result i32)))
    (table $pub (export "tab") 4 16 funcref)
    (table $priv 2 funcref)
    (elem (table $pub) (i32.const 0) func $one)
    (elem (table $priv) (i32.const 1) func $one)
    (elem declare func $evil)
    (func $one (result i32) (i32.const 1))
    (func $evil (result i32) (i32.const 666))
    (func (export "scribble") (param $seed i32)
      (memory.fill (i32.const 0) (local.get $seed) (i32.mul (memory.size) (i32.const 65536)))
      (global.set $g32 (local.get $seed))
      (global.set $g64 (i64.extend_i32_u (local.get $seed)))
      (global.set $gf (f64.convert_i32_u (local.get $seed)))
      (table.fill $pub (i32.const 0) (ref.func $evil) (table.size $pub))
      (table.fill $priv (i32.const 0) (ref.func $evil) (table.size $priv)))
    (func (export "setRef") (param externref) (global.set $gr (local.get 0)))
    (func (export "getRef") (result externref) (global.get $gr))
    (func (export "g64") (result i64) (global.get $g64))
    (func (export "privEntry") (param i32) (result i32)
      (if (result i32) (ref.is_null (table.get $priv (local.get 0)))
        (then (i32.const -1))
        (else (call_indirect $priv (type $v) (local.get 0)))))
    (func (export "privSize") (result i32) (table.size $priv))
    (func (export "growAll") (param i32) (result i32)
      (drop (table.grow $pub (ref.func $evil) (local.get 0)))
      (memory.grow (local.get 0))))`;
}

interface Observed {
  bytes: Uint8Array;
  g32: unknown;
  gf: unknown;
  g64: unknown;
  ref: unknown;
  pub: string[];
  priv: unknown[];
}

function observe(exports: Record<string, unknown>): Observed {
  const privSize = callExport(exports, 'privSize') as number;
  return {
    bytes: memoryBytes(exports.mem as WebAssembly.Memory),
    g32: (exports.g32 as WebAssembly.Global).value,
    gf: (exports.gf as WebAssembly.Global).value,
    g64: callExport(exports, 'g64'),
    ref: callExport(exports, 'getRef'),
    pub: tableEntries(exports.tab as WebAssembly.Table),
    priv: Array.from({ length: privSize }, (_, i) => callExport(exports, 'privEntry', i)),
  };
}

/** B's state equals the fresh instance's: every byte, the size, every global and table entry. */
function expectPristine(actual: Observed, fresh: Observed, who: string): void {
  expect(actual.bytes.length, `${who}: memory size`).toBe(fresh.bytes.length);
  expect(firstDifference(actual.bytes, fresh.bytes), `${who}: first memory byte that differs from a fresh instance`).toBe(-1);
  const { bytes: _a, ...rest } = actual;
  const { bytes: _f, ...freshRest } = fresh;
  expect(rest, `${who}: globals and tables`).toEqual(freshRest);
}

const SECRET = 0xa5;

/** Tenant A: writes everywhere it can reach without growing anything. */
function leaveSecrets(lease: Lease, round: number): void {
  const ex = lease.exports;
  callExport(ex, 'scribble', SECRET);
  const view = new Uint8Array((ex.mem as WebAssembly.Memory).buffer);
  const marker = new TextEncoder().encode(`secret-of-round-${round}`);
  for (let page = 0; page < view.length; page += 4096) view.set(marker, page);
  (ex.g32 as WebAssembly.Global).value = -round - 1;
  callExport(ex, 'setRef', { secret: round });
  const tab = ex.tab as WebAssembly.Table;
  tab.set(3, null);
  // Make sure A's writes landed, so B seeing the image is not an accident.
  const seen = observe(ex);
  expect(seen.bytes[4095]).toBe(SECRET);
  expect(seen.priv).toEqual([666, 666]);
  expect(seen.ref).toEqual({ secret: round });
}

const plainFresh = async (bytes: Uint8Array): Promise<Observed> => observe(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports);

const ROUNDS = 6;

async function runRounds(strategy: Strategy, mode: ResetMode) {
  const bytes = await watModule(tenantModule('IMAGE'));
  const fresh = await plainFresh(bytes);
  const pool = createPool({ strategy, limits: { maxSlots: 1 }, reset: { mode } });
  const prepared = await pool.prepare(bytes);
  // At least a wasm page of zeros past the image (when there is one).
  expect(prepared.image.dataLength).toBeLessThanOrEqual(2 * 65536);
  const memories = new Set<WebAssembly.Memory>();
  for (let round = 0; round < ROUNDS; round++) {
    const a = pool.instantiate(prepared);
    memories.add(a.memory as WebAssembly.Memory);
    leaveSecrets(a, round);
    a.release();
    const b = pool.instantiate(prepared);
    memories.add(b.memory as WebAssembly.Memory);
    expectPristine(observe(b.exports), fresh, `round ${round}, tenant B`);
    b.release();
  }
  const stats = pool.stats();
  pool.close();
  return { prepared, stats, memories };
}

describe.each(['copy', 'cow'] as const)('strategy %s', (strategy) => {
  const modes: readonly ResetMode[] = strategy === 'cow' ? RESET_MODES : ['madvise'];
  it.each(modes)('reset %s: the next tenant of the slot sees only the image', async (mode) => {
    const { prepared, stats, memories } = await runRounds(strategy, mode);
    expect(prepared.pooled).toBe(true);
    expect(prepared.cow).toBe(strategy === 'cow');
    // One slot, one memory, handed out 2 × ROUNDS times: every acquire after the first is an affinity hit.
    expect(memories.size).toBe(1);
    expect(stats.affinity).toEqual({ hits: 2 * ROUNDS - 1, cold: 1, evicted: 0 });
    expect(stats.retired).toBe(0);
  });
});

it('strategy fresh: every tenant gets a new memory (nothing to reuse, nothing to leak)', async () => {
  const { stats, memories } = await runRounds('fresh', 'madvise');
  expect(memories.size).toBe(2 * ROUNDS);
  expect(stats.affinity).toEqual({ hits: 0, cold: 0, evicted: 0 });
});

it('strategy reuse rewinds exactly what it documents (memory, defined globals, defined tables) in the kept instance', async () => {
  const { stats, memories } = await runRounds('reuse', 'madvise');
  expect(memories.size).toBe(1);
  expect(stats.affinity.hits).toBe(2 * ROUNDS - 1);
});

describe.each(['copy', 'cow', 'reuse', 'fresh'] as const)('strategy %s', (strategy) => {
  it('a tenant that grew memory and a table leaves a slot whose next tenant has the initial sizes and image', async () => {
    const bytes = await watModule(tenantModule('IMAGE'));
    const fresh = await plainFresh(bytes);
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(bytes);
    for (let round = 0; round < 3; round++) {
      const a = pool.instantiate(prepared);
      expect(callExport(a.exports, 'growAll', 2)).toBe(3);
      leaveSecrets(a, round);
      expect((a.exports.tab as WebAssembly.Table).length).toBe(6);
      const grown = a.memory as WebAssembly.Memory;
      expect(grown.buffer.byteLength).toBe(5 * 65536);
      a.release();
      const b = pool.instantiate(prepared);
      expect(b.memory).not.toBe(grown);
      expectPristine(observe(b.exports), fresh, `round ${round}, tenant B after growth`);
      b.release();
    }
    // A memory that grew is never handed out again (DESIGN invariant 5).
    expect(pool.stats().retired).toBe(strategy === 'fresh' ? 0 : 3);
    pool.close();
  });
});

describe.each(['copy', 'cow'] as const)('strategy %s', (strategy) => {
  it('a slot passed between modules with different images (and none) shows each module only its own image', async () => {
    const modules = {
      // Images of different lengths, all shorter than the memory: a longer
      // image's tail and the tenant's writes past any image must both go.
      x: await watModule(tenantModule('X-SECRET-IMAGE', 150_000)),
      y: await watModule(tenantModule('Y-other', 80_000)),
      z: await watModule(tenantModule('').replace(/\(data [^\n]*\n/g, '')),
    };
    const pool = createPool({ strategy, limits: { maxSlots: 1, maxUnusedWarmSlots: 0 } });
    const prepared = {
      x: await pool.prepare(modules.x),
      y: await pool.prepare(modules.y),
      z: await pool.prepare(modules.z),
    };
    expect(prepared.z.image.dataLength).toBe(0);
    if (strategy === 'cow') expect(prepared.y.image.dataLength).toBeLessThan(prepared.x.image.dataLength);
    expect(prepared.x.image.dataLength).toBeLessThan(3 * 65536);
    const order = ['x', 'y', 'z', 'x', 'z', 'y', 'x'] as const;
    const memories = new Set<WebAssembly.Memory>();
    for (const [round, name] of order.entries()) {
      const lease = pool.instantiate(prepared[name]);
      memories.add(lease.memory as WebAssembly.Memory);
      expectPristine(observe(lease.exports), await plainFresh(modules[name]), `tenant ${round} (module ${name})`);
      leaveSecrets(lease, round);
      lease.release();
    }
    expect(memories.size).toBe(1);
    expect(pool.stats().affinity.evicted).toBe(order.length - 1);
    pool.close();
  });
});
