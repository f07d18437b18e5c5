/**
 * Malformed and hostile module binaries through `pool.prepare`: truncated at
 * every byte, huge declared counts and sizes, LEB128 overflow, sections out
 * of order or repeated, a data segment claiming 4 GiB, random garbage and
 * byte-flipped valid modules. Each must end in a CowpoolError INVALID_WASM
 * with an offset inside the input (or, for a mutant that is still valid, a
 * prepared module) — in bounded time, without a memory spike.
 */
import { describe, expect, it } from 'vitest';
import { createPool, isCowpoolError, type InstancePool } from '../src/index.js';
import { emitModule } from '../src/fuzz/emit-module.js';
import { randomModuleShape } from '../src/fuzz/module-shape.js';
import { Prng } from '../src/fuzz/prng.js';
import { byteVec, i32ConstExpr, limits, module, name, section, SECTION, u32, vec, type Bytes } from '../src/fuzz/wasm-encoder.js';
import { forcedGc } from './helpers/forced-gc.js';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/** 0xFFFFFFFF as a u32 LEB128. */
const U32_MAX = [0xff, 0xff, 0xff, 0xff, 0x0f];
const raw = (...parts: Bytes[]): Uint8Array => new Uint8Array(parts.flat());
/** A section whose declared size is whatever its payload is. */
const sec = (id: number, payload: Bytes): Bytes => section(id, payload);

const CORPUS: Record<string, Uint8Array> = {
  'empty input': raw(),
  'bad magic': raw([0x00, 0x61, 0x73, 0x6e, 0x01, 0, 0, 0]),
  'text format': new TextEncoder().encode('(module (memory 1))'),
  'version 2': raw([0x00, 0x61, 0x73, 0x6d, 0x02, 0, 0, 0]),
  'header cut after 5 bytes': raw(HEADER.slice(0, 5)),
  'section id without a size': raw(HEADER, [SECTION.memory]),
  'section size past the end of the file': raw(HEADER, [SECTION.memory, 0xf0, 0xff, 0xff, 0xff, 0x0f, 0x01]),
  'section size 0xFFFFFFFF': raw(HEADER, [SECTION.type], U32_MAX),
  'type count 0xFFFFFFFF': raw(HEADER, sec(SECTION.type, [...U32_MAX, 0x60, 0, 0])),
  'function count 0xFFFFFFFF': raw(HEADER, sec(SECTION.type, vec([[0x60, 0, 0]])), sec(SECTION.function, [...U32_MAX, 0])),
  'import count 0xFFFFFFFF': raw(HEADER, sec(SECTION.import, [...U32_MAX, 0, 0, 2, 0, 1])),
  'import name length 0xFFFFFFF0': raw(HEADER, sec(SECTION.import, [1, 0xf0, 0xff, 0xff, 0xff, 0x0f, 0x61])),
  'export count 0xFFFFFFFF': raw(HEADER, sec(SECTION.export, [...U32_MAX])),
  'data count 0xFFFFFFFF': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.data, [...U32_MAX, 0x00, ...i32ConstExpr(0), 1, 7])),
  'code count 0xFFFFFFFF with one body': raw(HEADER, sec(SECTION.type, vec([[0x60, 0, 0]])), sec(SECTION.function, vec([[0]])), sec(SECTION.code, [...U32_MAX, 2, 0, 0x0b])),
  'function body size 0xFFFFFFFF': raw(HEADER, sec(SECTION.type, vec([[0x60, 0, 0]])), sec(SECTION.function, vec([[0]])), sec(SECTION.code, [1, ...U32_MAX, 0, 0x0b])),
  'local count 0xFFFFFFFF': raw(HEADER, sec(SECTION.type, vec([[0x60, 0, 0]])), sec(SECTION.function, vec([[0]])), sec(SECTION.code, vec([[...u32(8), 1, ...U32_MAX, 0x7f, 0x0b]]))),
  'a data segment claiming 4 GiB': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.data, [1, 0x00, ...i32ConstExpr(0), ...U32_MAX, 1, 2, 3])),
  'a passive data segment claiming 4 GiB': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.data, [1, 0x01, ...U32_MAX])),
  'memory of 65537 pages': raw(HEADER, sec(SECTION.memory, vec([limits(65537, null)]))),
  'memory minimum above its maximum': raw(HEADER, sec(SECTION.memory, vec([limits(3, 2)]))),
  'LEB128 u32 of six bytes': raw(HEADER, sec(SECTION.memory, [1, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])),
  'LEB128 u32 with bits past 32': raw(HEADER, sec(SECTION.memory, [1, 0x00, 0xff, 0xff, 0xff, 0xff, 0x7f])),
  'LEB128 section size of six bytes': raw(HEADER, [SECTION.memory, 0x83, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 0, 1]),
  'LEB128 i32.const past 32 bits': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.data, [1, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x10, 0x0b, 0])),
  'LEB128 cut at the end of the file': raw(HEADER, [SECTION.memory, 0x80]),
  'memory section before the type section': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.type, vec([[0x60, 0, 0]]))),
  'two memory sections': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.memory, vec([limits(1, null)]))),
  'data count section after the code section': raw(HEADER, sec(SECTION.code, [0]), sec(SECTION.dataCount, [0])),
  'unknown section id 0x7f': raw(HEADER, sec(0x7f, [0])),
  'custom section name length past its section': raw(HEADER, sec(SECTION.custom, [0xf0, 0xff, 0xff, 0xff, 0x0f, 0x61])),
  'name that is not UTF-8': raw(HEADER, sec(SECTION.import, [1, 2, 0xc3, 0x28, 1, 0x61, 2, 0, 1])),
  'function and code counts that disagree': raw(HEADER, sec(SECTION.type, vec([[0x60, 0, 0]])), sec(SECTION.function, vec([[0], [0]])), sec(SECTION.code, vec([[2, 0, 0x0b]]))),
  'data count that disagrees with the data section': raw(HEADER, sec(SECTION.memory, vec([limits(1, null)])), sec(SECTION.dataCount, [5]), sec(SECTION.data, vec([[0x01, ...byteVec(new Uint8Array([1]))]]))),
  'active segment past a 0-page memory (valid binary, fails only at instantiation)': module([
    sec(SECTION.memory, vec([limits(0, null)])),
    sec(SECTION.data, vec([[0x00, ...i32ConstExpr(0), ...byteVec(new Uint8Array([1]))]])),
  ]),
  'export name repeated': module([
    sec(SECTION.memory, vec([limits(1, null)])),
    sec(SECTION.export, vec([[...name('m'), 2, 0], [...name('m'), 2, 0]])),
  ]),
};

/** Cases that are well-formed (the engine accepts them); everything else must be INVALID_WASM. */
const VALID = new Set(['active segment past a 0-page memory (valid binary, fails only at instantiation)']);

/** Time for one prepare, generous for a loaded machine: the point is "bounded", not "fast". */
const MAX_MS = 3000;

interface Outcome {
  ok: boolean;
  code: string | null;
  offset: number | null;
  ms: number;
  message: string;
}

async function prepareOutcome(pool: InstancePool, bytes: Uint8Array): Promise<Outcome> {
  const started = performance.now();
  try {
    await pool.prepare(bytes);
    return { ok: true, code: null, offset: null, ms: performance.now() - started, message: '' };
  } catch (e) {
    const ms = performance.now() - started;
    if (isCowpoolError(e)) return { ok: false, code: e.code, offset: e.offset ?? null, ms, message: e.message };
    return { ok: false, code: `not a CowpoolError: ${String(e)}`, offset: null, ms, message: String(e) };
  }
}

function expectInvalid(o: Outcome, bytes: Uint8Array, what: string): void {
  expect(o.code, `${what}: ${o.message}`).toBe('INVALID_WASM');
  expect(o.offset, what).not.toBeNull();
  expect(o.offset as number, what).toBeGreaterThanOrEqual(0);
  expect(o.offset as number, what).toBeLessThanOrEqual(bytes.length);
  expect(o.ms, what).toBeLessThan(MAX_MS);
}

function heapAfterGc(): { heap: number; rss: number } {
  const gc = forcedGc();
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

describe('hostile modules through pool.prepare', () => {
  it.each(Object.entries(CORPUS))('%s', async (what, bytes) => {
    const pool = createPool({ strategy: 'cow' });
    const o = await prepareOutcome(pool, bytes);
    if (VALID.has(what)) {
      expect(o.ok, o.message).toBe(true);
    } else {
      expectInvalid(o, bytes, what);
    }
    pool.close();
  });

  it('a valid module cut at every byte: each prefix is INVALID_WASM or (at a section boundary) a valid module', async () => {
    const pool = createPool({ strategy: 'cow' });
    let shape = randomModuleShape(new Prng(7));
    for (let seed = 8; shape.memory === null || shape.data.length === 0; seed++) shape = randomModuleShape(new Prng(seed));
    const whole = emitModule(shape);
    const limit = Math.min(whole.length, 1500);
    for (let cut = 0; cut < limit; cut++) {
      const prefix = whole.subarray(0, cut);
      const o = await prepareOutcome(pool, prefix);
      if (o.ok) expect(WebAssembly.validate(prefix), `prefix of ${cut} bytes`).toBe(true);
      else expectInvalid(o, prefix, `prefix of ${cut} bytes`);
    }
    pool.close();
  });

  it('random bytes after a valid header, and valid modules with bytes flipped: INVALID_WASM or valid, nothing else', async () => {
    const pool = createPool({ strategy: 'cow' });
    const prng = new Prng(99);
    // prepare must accept exactly what the engine validates: count both and compare.
    let valid = 0;
    let engineValid = 0;
    for (let i = 0; i < 300; i++) {
      const garbage = new Uint8Array([...HEADER, ...prng.bytes(prng.int(0, 200))]);
      if (WebAssembly.validate(garbage)) engineValid++;
      const o = await prepareOutcome(pool, garbage);
      if (o.ok) valid++;
      else expectInvalid(o, garbage, `garbage ${i}`);
    }
    for (let i = 0; i < 300; i++) {
      const mutant = emitModule(randomModuleShape(new Prng(1000 + i))).slice();
      for (let flips = prng.int(1, 4); flips > 0; flips--) mutant[prng.int(8, mutant.length - 1)] = prng.int(0, 255);
      if (WebAssembly.validate(mutant)) engineValid++;
      const o = await prepareOutcome(pool, mutant);
      if (o.ok) {
        expect(WebAssembly.validate(mutant)).toBe(true);
        valid++;
      } else {
        expectInvalid(o, mutant, `mutant ${i}`);
      }
    }
    expect(valid).toBe(engineValid);
    // Both outcomes occurred, so both branches above were exercised.
    expect(valid).toBeGreaterThan(0);
    expect(valid).toBeLessThan(600);
    pool.close();
  });

  it('the whole corpus, run 20 times, leaves the heap and RSS where they were (loosely)', async () => {
    const pool = createPool({ strategy: 'cow' });
    for (const bytes of Object.values(CORPUS)) await prepareOutcome(pool, bytes);
    const before = heapAfterGc();
    for (let round = 0; round < 20; round++) {
      for (const [what, bytes] of Object.entries(CORPUS)) {
        if (!VALID.has(what)) await prepareOutcome(pool, bytes);
      }
    }
    const after = heapAfterGc();
    pool.close();
    expect(after.heap - before.heap).toBeLessThan(16 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024);
  });

  it('a valid module declaring 4 GiB of memory with one byte of data at the end: bounded time and RSS, served by plain V8', async () => {
    const pool = createPool({ strategy: 'cow' });
    const bytes = module([
      sec(SECTION.memory, vec([limits(65536, null)])),
      sec(SECTION.data, vec([[0x00, ...i32ConstExpr(-1), ...byteVec(new Uint8Array([0x42]))]])),
    ]);
    const before = heapAfterGc();
    const started = performance.now();
    const prepared = await pool.prepare(bytes);
    const ms = performance.now() - started;
    const after = heapAfterGc();
    expect(prepared.pooled).toBe(false);
    expect(prepared.fallbackReason).toBe('image-over-limit');
    expect(ms).toBeLessThan(MAX_MS);
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024);
    pool.close();
  });
});
