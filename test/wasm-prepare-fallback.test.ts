/**
 * Every fallback reason is reached by a module that needs it, and a fallback
 * hands back the original bytes untouched, with no image and no import.
 */
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isCowpoolError } from '../src/errors.js';
import { prepareLayout, type FallbackReason, type PreparedLayout } from '../src/wasm/prepare-layout.js';
import { instantiate, WA, wat } from './support/wasm-fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function expectFallback(layout: PreparedLayout, bytes: Uint8Array, reason: FallbackReason): void {
  expect(layout.cow).toBe(false);
  expect(layout.fallbackReason).toBe(reason);
  expect(layout.fallbackDetail).toEqual(expect.any(String));
  expect(layout.fallbackDetail!.length).toBeGreaterThan(20);
  expect(layout.bytes).toBe(bytes);
  expect(layout.image.length).toBe(0);
  expect(layout.memoryImport).toBeNull();
  expect(layout.internals).toBeNull();
}

function invalidWasm(run: () => unknown): { message: string; offset: number | undefined } {
  try {
    run();
  } catch (e) {
    if (isCowpoolError(e, 'INVALID_WASM')) return { message: e.message, offset: e.offset };
    throw e;
  }
  throw new Error('expected INVALID_WASM');
}

/** (memory 1) (memory 1): two defined memories, written by hand (the binary is what matters). */
const TWO_DEFINED_MEMORIES = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x05, 0x02, 0x00, 0x01, 0x00, 0x01]);

describe('fallback reasons', () => {
  it('no-memory: a module without memory', async () => {
    const bytes = await wat('(module (func (export "f") (result i32) (i32.const 1)))');
    const layout = prepareLayout(bytes, { exportInternals: true });
    expectFallback(layout, bytes, 'no-memory');
    expect(layout.memory).toBeNull();
    expect(layout.memoryImported).toBe(false);
  });

  it('shared-memory: a shared memory with a maximum', async () => {
    const bytes = await wat('(module (memory 1 2 shared) (data (i32.const 0) "x"))', { threads: true });
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'shared-memory');
    expect(layout.memory).toEqual({ initialPages: 1, maximumPages: 2, shared: true, memory64: false });
  });

  it('shared-memory: an imported shared memory', async () => {
    const bytes = await wat('(module (import "env" "m" (memory 1 4 shared)))', { threads: true });
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'shared-memory');
    expect(layout.memoryImported).toBe(true);
  });

  it('memory64: rejected with a hint while the engine lacks it, a fallback once enabled', async () => {
    const bytes = await wat('(module (memory i64 1 2) (data (i64.const 16) "x"))', { memory64: true });
    if (!WA.validate(bytes)) {
      const error = invalidWasm(() => prepareLayout(bytes));
      expect(error.message).toMatch(/memory64/);
      setFlagsFromString('--experimental-wasm-memory64');
    }
    expect(WA.validate(bytes)).toBe(true);
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'memory64');
    expect(layout.memory).toEqual({ initialPages: 1, maximumPages: 2, shared: false, memory64: true });
  });

  it('multi-memory: two defined memories (the engine decides whether it is a valid module at all)', () => {
    if (WA.validate(TWO_DEFINED_MEMORIES)) {
      expectFallback(prepareLayout(TWO_DEFINED_MEMORIES), TWO_DEFINED_MEMORIES, 'multi-memory');
    } else {
      const error = invalidWasm(() => prepareLayout(TWO_DEFINED_MEMORIES));
      expect(error.message).toMatch(/multi-memory/);
    }
  });

  it('multi-memory: two defined memories, on an engine that accepts them', () => {
    // Node 20's V8 has no multi-memory support at all; stand in for an engine that does.
    vi.spyOn(WA, 'validate').mockReturnValue(true);
    const layout = prepareLayout(TWO_DEFINED_MEMORIES);
    expectFallback(layout, TWO_DEFINED_MEMORIES, 'multi-memory');
    expect(layout.memory).toEqual({ initialPages: 1, maximumPages: null, shared: false, memory64: false });
  });

  it('multi-memory: an imported memory plus a defined one counts as two', async () => {
    const bytes = await wat('(module (import "env" "m" (memory 1)) (memory 1))', { multi_memory: true });
    vi.spyOn(WA, 'validate').mockReturnValue(true);
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'multi-memory');
    expect(layout.memoryImported).toBe(true);
    expect(layout.fallbackDetail).toMatch(/1 imported, 1 defined/);
  });

  it('non-constant-data-offset: an offset read from an imported global', async () => {
    const bytes = await wat(`(module
      (import "env" "__memory_base" (global i32))
      (memory 1)
      (data (i32.const 0) "fixed")
      (data (global.get 0) "relocatable"))`);
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'non-constant-data-offset');
    expect(layout.fallbackDetail).toMatch(/data segment 1 .*global\.get 0/);
    expect(layout.imageDataBytes).toBe(5 + 11);
    // The original still instantiates: the plain path serves it.
    instantiate(bytes, { env: { __memory_base: 100 } });
  });

  it('image-exceeds-initial-memory: a segment one byte past the initial memory', async () => {
    const bytes = await wat('(module (memory 1 2) (data (i32.const 65535) "ab"))');
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'image-exceeds-initial-memory');
    expect(layout.fallbackDetail).toMatch(/\[65535, 65537\)/);
    // V8 must be the one that traps, as the specification says.
    expect(() => instantiate(bytes)).toThrow(WA.RuntimeError);
  });

  it('image-exceeds-initial-memory: an empty segment placed past the end', async () => {
    const bytes = await wat('(module (memory 1) (data (i32.const 65537) ""))');
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'image-exceeds-initial-memory');
    expect(() => instantiate(bytes)).toThrow(WA.RuntimeError);
  });

  it('image-exceeds-initial-memory: a segment in a memory with zero initial pages', async () => {
    const bytes = await wat('(module (memory 0 1) (data (i32.const 0) "x"))');
    expectFallback(prepareLayout(bytes), bytes, 'image-exceeds-initial-memory');
  });

  it('rewrite-invalid: the rewritten module is refused by the engine', async () => {
    const bytes = await wat('(module (memory 1) (data (i32.const 0) "x"))');
    const validate = WA.validate.bind(WA);
    vi.spyOn(WA, 'validate').mockImplementation((candidate: Uint8Array) => candidate === bytes && validate(candidate));
    const layout = prepareLayout(bytes);
    expectFallback(layout, bytes, 'rewrite-invalid');
    expect(layout.fallbackDetail).toMatch(/rewritten module does not validate/);
  });

  it('serves a memory with zero initial pages and no data copy-on-write (empty image)', async () => {
    const bytes = await wat('(module (memory (export "m") 0 1))');
    const layout = prepareLayout(bytes);
    expect(layout.cow).toBe(true);
    expect(layout.image.length).toBe(0);
    expect(layout.memoryExportNames).toEqual(['m']);
  });
});
