/**
 * Every reason a module is served by plain V8 instantiation, reached through
 * the pool: the module-level ones from prepareLayout and the pool's own
 * limits. Each gives a working plain instance (or the trap plain V8 gives),
 * takes no slot, names itself on the prepared module and is counted per
 * instantiation in `stats().fallbacks`.
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { createPool, type PoolConfigInput, type PoolFallbackReason, type Strategy } from '../src/index.js';
import { callExport, outcomeOf } from './helpers/instance-state.js';
import { watModule, type WatFeature } from './helpers/wat-module.js';

// Node 20 compiles memory64 modules only with this flag; set before any compile.
setFlagsFromString('--experimental-wasm-memory64');

const rewrite = vi.hoisted(() => ({ broken: false }));

// The rewrite never produces an invalid module on purpose; to reach the
// `rewrite-invalid` fallback its output is replaced by bytes V8 refuses.
vi.mock('../src/wasm/module-rewrite.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/wasm/module-rewrite.js')>();
  return {
    ...original,
    rewriteModule: (...args: Parameters<typeof original.rewriteModule>) =>
      rewrite.broken ? new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0b]) : original.rewriteModule(...args),
  };
});

interface FallbackCase {
  reason: PoolFallbackReason;
  wat: string;
  features?: Partial<Record<WatFeature, boolean>>;
  config?: PoolConfigInput;
  imports?: () => WebAssembly.Imports;
  /** Calls `run` on the instance's exports; the result must equal `expected`. */
  run: (exports: Record<string, unknown>) => unknown;
  expected: unknown;
  detail: RegExp;
  brokenRewrite?: boolean;
}

const load = (exports: Record<string, unknown>) => callExport(exports, 'load', 0);

const CASES: FallbackCase[] = [
  {
    reason: 'no-memory',
    wat: '(module (func (export "load") (param i32) (result i32) (i32.add (local.get 0) (i32.const 7))))',
    run: load,
    expected: 7,
    detail: /neither defines nor imports a memory/,
  },
  {
    reason: 'shared-memory',
    wat: `(module (memory 1 2 shared) (data (i32.const 0) "S")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    features: { threads: true },
    run: load,
    expected: 83,
    detail: /memory 0 is shared/,
  },
  {
    reason: 'memory64',
    wat: `(module (memory i64 1) (data (i64.const 0) "W")
      (func (export "load") (param i32) (result i32) (i32.load8_u (i64.extend_i32_u (local.get 0)))))`,
    features: { memory64: true },
    run: load,
    expected: 87,
    detail: /64-bit addresses/,
  },
  {
    reason: 'non-constant-data-offset',
    wat: `(module (import "env" "base" (global $base i32)) (memory 1) (data (global.get $base) "N")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    imports: () => ({ env: { base: 0 } }),
    run: load,
    expected: 78,
    detail: /global/,
  },
  {
    // Past the declared minimum, but the memory actually imported is larger: plain V8 instantiates it.
    reason: 'image-exceeds-initial-memory',
    wat: `(module (import "env" "memory" (memory 1)) (data (i32.const 70000) "E")
      (func (export "load") (param i32) (result i32) (i32.load8_u (i32.add (local.get 0) (i32.const 70000)))))`,
    imports: () => ({ env: { memory: new WebAssembly.Memory({ initial: 2 }) } }),
    run: load,
    expected: 69,
    detail: /70000|initial/,
  },
  {
    reason: 'rewrite-invalid',
    wat: `(module (memory 1) (data (i32.const 0) "R")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    brokenRewrite: true,
    run: load,
    expected: 82,
    detail: /rewritten module does not validate/,
  },
  {
    reason: 'image-over-limit',
    wat: `(module (memory 1) (data (i32.const 8000) "I")
      (func (export "load") (param i32) (result i32) (i32.load8_u (i32.add (local.get 0) (i32.const 8000)))))`,
    config: { limits: { maxImageBytes: 4096 } },
    run: load,
    expected: 73,
    detail: /8192 bytes, above limits\.maxImageBytes \(4096\)/,
  },
  {
    reason: 'memory-over-limit',
    wat: `(module (memory 2) (data (i32.const 70000) "M")
      (func (export "load") (param i32) (result i32) (i32.load8_u (i32.add (local.get 0) (i32.const 70000)))))`,
    config: { limits: { maxMemoryBytesPerSlot: '64KiB' } },
    run: load,
    expected: 77,
    detail: /131072 bytes, above limits\.maxMemoryBytesPerSlot \(65536\)/,
  },
];

async function prepareCase(c: FallbackCase, strategy: Strategy) {
  const bytes = await watModule(c.wat, c.features);
  const pool = createPool({ ...c.config, strategy });
  rewrite.broken = c.brokenRewrite === true;
  try {
    return { pool, bytes, prepared: await pool.prepare(bytes, { name: `${c.reason}.wasm` }) };
  } finally {
    rewrite.broken = false;
  }
}

describe.each(['copy', 'cow', 'reuse'] as const)('strategy %s', (strategy) => {
  it.each(CASES.map((c) => [c.reason, c] as const))('%s: a working plain instance, no slot, counted', async (_reason, c) => {
    const { pool, bytes, prepared } = await prepareCase(c, strategy);
    expect(prepared.pooled).toBe(false);
    expect(prepared.cow).toBe(false);
    expect(prepared.fallbackReason).toBe(c.reason);
    expect(prepared.fallbackDetail).toMatch(c.detail);

    const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes), c.imports?.() ?? {});
    expect(c.run(plain.exports)).toBe(c.expected);

    for (let i = 0; i < 2; i++) {
      const imports = c.imports?.() ?? {};
      const lease = pool.instantiate(prepared, imports);
      expect(c.run(lease.exports)).toBe(c.expected);
      lease.release();
    }
    const viaHook = pool.emscriptenHook(prepared);
    expect(viaHook.wasmMemory).toBeUndefined();
    let received: WebAssembly.Instance | null = null;
    viaHook(c.imports?.() ?? {}, (instance) => {
      received = instance;
    });
    expect(received).toBe(viaHook.lease!.instance);
    expect(c.run(viaHook.lease!.exports)).toBe(c.expected);
    viaHook.lease!.release();

    const stats = pool.stats();
    expect(stats.fallbacks).toEqual({ [c.reason]: 3 });
    expect(stats.slots.total).toBe(0);
    expect(stats.leases).toMatchObject({ acquired: 3, released: 3, active: 0 });
    pool.close();
  });
});

it('strategy fresh: the same modules are plain by choice, not counted as fallbacks', async () => {
  for (const c of CASES) {
    const { pool, prepared } = await prepareCase(c, 'fresh');
    expect(prepared.fallbackReason).toBeNull();
    const lease = pool.instantiate(prepared, c.imports?.() ?? {});
    expect(c.run(lease.exports)).toBe(c.expected);
    lease.release();
    expect(pool.stats().fallbacks).toEqual({});
    pool.close();
  }
});

it('image-exceeds-initial-memory with a defined memory traps at instantiation exactly like plain V8, and is counted', async () => {
  const bytes = await watModule('(module (memory 1) (data (i32.const 65530) "overflowing"))');
  const pool = createPool({ strategy: 'cow' });
  const prepared = await pool.prepare(bytes);
  expect(prepared.fallbackReason).toBe('image-exceeds-initial-memory');
  const plain = outcomeOf(() => new WebAssembly.Instance(new WebAssembly.Module(bytes)));
  expect(plain).toMatchObject({ threw: 'RuntimeError' });
  expect(outcomeOf(() => pool.instantiate(prepared))).toEqual(plain);
  expect(pool.stats().fallbacks).toEqual({ 'image-exceeds-initial-memory': 1 });
  expect(pool.stats().leases.active).toBe(0);
  pool.close();
});

it('multi-memory: a fallback where the engine accepts it, else refused at prepare naming the feature', async () => {
  const bytes = await watModule(`(module (import "env" "other" (memory 1)) (memory 1) (data (i32.const 0) "2")
    (func (export "load") (param i32) (result i32) (i32.add (i32.load8_u (local.get 0)) (i32.load8_u 1 (local.get 0)))))`, { multi_memory: true });
  const imports = { env: { other: new WebAssembly.Memory({ initial: 1 }) } };
  const pool = createPool({ strategy: 'cow' });
  if (WebAssembly.validate(bytes)) {
    const prepared = await pool.prepare(bytes);
    expect(prepared.fallbackReason).toBe('multi-memory');
    const lease = pool.instantiate(prepared, imports);
    expect(callExport(lease.exports, 'load', 0)).toBe(50);
    lease.release();
    expect(pool.stats().fallbacks).toEqual({ 'multi-memory': 1 });
  } else {
    const refused = await pool.prepare(bytes).then(() => null, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'INVALID_WASM' });
    expect((refused as Error).message).toContain('multi-memory');
  }
  pool.close();
});
