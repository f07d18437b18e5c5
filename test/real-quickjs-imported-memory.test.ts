/**
 * QuickJS (the `@jitl/quickjs-wasmfile-release-sync` build) imports its
 * memory (`a.a`): its Emscripten glue creates the Memory unless given
 * `Module.wasmMemory`. Passing the pool hook's `wasmMemory` (which reserves
 * the slot) makes the glue build its heap views on the pooled memory, and the
 * hook as `Module.instantiateWasm` instantiates into that same slot. Each
 * run evaluates JavaScript in a fresh instance: a global set in run 1 is not
 * there in run 2, even in a context at the very address run 1's had.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createPool, type Lease } from '../src/index.js';

const require = createRequire(import.meta.url);
const DIST = `${require.resolve('@jitl/quickjs-wasmfile-release-sync/package.json').replace(/package\.json$/, '')}dist/`;
const WASM = readFileSync(`${DIST}emscripten-module.wasm`);

/** The parts of the Emscripten module used here (QTS_* from quickjs-emscripten's interface.c). */
interface QuickJsModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _QTS_NewRuntime(): number;
  _QTS_NewContext(rt: number, intrinsics: number): number;
  _QTS_ResolveException(ctx: number, value: number): number;
  _QTS_Dump(ctx: number, value: number): number;
  _QTS_FreeCString(ctx: number, str: number): void;
  _QTS_FreeValuePointer(ctx: number, value: number): void;
  cwrap(name: string, returns: string, args: string[]): (...args: unknown[]) => number;
  lengthBytesUTF8(s: string): number;
  stringToUTF8(s: string, ptr: number, max: number): void;
  UTF8ToString(ptr: number): string;
}
/** The glue's factory: a new Emscripten module (and instance) per call; nothing is cached. */
type QuickJsFactory = (config: { wasmMemory: WebAssembly.Memory | undefined; instantiateWasm: unknown }) => Promise<QuickJsModule>;
const QuickJSRaw = require(`${DIST}emscripten-module.cjs`) as QuickJsFactory;

/** Evaluates `code` in `ctx`; returns the JSON dump of the result, or `throw:` and the error's. */
function evaluate(mod: QuickJsModule, ctx: number, code: string): string {
  const length = mod.lengthBytesUTF8(code) + 1;
  const source = mod._malloc(length);
  mod.stringToUTF8(code, source, length);
  const evalCode = mod.cwrap('QTS_Eval', 'number', ['number', 'number', 'number', 'string', 'number', 'number']);
  const value = evalCode(ctx, source, length - 1, 'run.js', 0, 0);
  mod._free(source);
  const error = mod._QTS_ResolveException(ctx, value);
  const dumped = mod._QTS_Dump(ctx, error !== 0 ? error : value);
  const text = mod.UTF8ToString(dumped);
  mod._QTS_FreeCString(ctx, dumped);
  mod._QTS_FreeValuePointer(ctx, value);
  if (error !== 0) mod._QTS_FreeValuePointer(ctx, error);
  return error !== 0 ? `throw:${text}` : text;
}

const RUNS = 3;

describe.each(['cow', 'copy', 'reuse'] as const)('strategy %s', (strategy) => {
  it('each run evaluates JavaScript in a fresh instance on the pooled imported memory', async () => {
    const pool = createPool({ strategy, limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(WASM, { name: 'quickjs.wasm' });
    expect(prepared.layout.memoryImported).toBe(true);
    expect(prepared.memoryImport).toEqual({ module: 'a', name: 'a' });
    expect(prepared.pooled).toBe(true);
    expect(prepared.cow).toBe(strategy !== 'copy');

    const marker = `quickjs-secret-${strategy}-${process.pid}`;
    const memories = new Set<WebAssembly.Memory>();
    const contexts = new Set<number>();
    for (let run = 0; run < RUNS; run++) {
      let lease: Lease | null = null;
      const hook = pool.emscriptenHook(prepared, (l) => {
        lease = l;
      });
      const wasmMemory = hook.wasmMemory;
      expect(wasmMemory).toBeInstanceOf(WebAssembly.Memory);
      const mod = await QuickJSRaw({ wasmMemory, instantiateWasm: hook });
      const served = lease as Lease | null;
      expect(served, 'the hook served the instance').not.toBeNull();
      // The glue's heap and the instance's memory are the reserved slot's memory.
      expect(served!.memory).toBe(wasmMemory);
      memories.add(wasmMemory!);
      expect(Buffer.from(wasmMemory!.buffer).indexOf(marker)).toBe(-1);

      const ctx = mod._QTS_NewContext(mod._QTS_NewRuntime(), 0);
      contexts.add(ctx);
      expect(evaluate(mod, ctx, '[1, 2, 3].map((x) => x * x).reduce((a, b) => a + b)')).toBe('14');
      expect(evaluate(mod, ctx, 'JSON.stringify({ ok: typeof Promise })')).toBe('"{\\"ok\\":\\"function\\"}"');
      expect(evaluate(mod, ctx, 'typeof secret')).toBe('"undefined"');
      if (run === 0) {
        expect(evaluate(mod, ctx, `globalThis.secret = ${JSON.stringify(marker)}; secret.length`)).toBe(String(marker.length));
        expect(Buffer.from(wasmMemory!.buffer).indexOf(marker)).toBeGreaterThanOrEqual(0);
      } else {
        expect(evaluate(mod, ctx, 'secret')).toMatch(/^throw:.*ReferenceError.*secret/);
      }
      // Runtime and context are left alive: the next instance must not see them.
      served!.release();
    }
    // One memory throughout, and run after run the context sits at the same
    // address: every heap started from the image (one carried over from the
    // previous run would place it elsewhere, and would still hold the marker).
    expect(memories.size).toBe(1);
    expect(contexts.size).toBe(1);
    const stats = pool.stats();
    expect(stats.affinity).toEqual({ hits: RUNS - 1, cold: 1, evicted: 0 });
    expect(stats.retired).toBe(0);
    pool.close();
  });
});
