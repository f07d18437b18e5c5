/**
 * Untrusted JavaScript in a fresh QuickJS VM per call, from a pool: QuickJS's wasm
 * (`@jitl/quickjs-wasmfile-release-sync`) linked to its own small set of imports
 * (quickjs-imports.mjs), no Emscripten glue. Each call:
 *
 *   instantiate({ data }) ─► constructors ─► runtime + context ─► eval ─► JSON of the result ─► release
 *
 * Under `reuse` the slot keeps its instance (the imports are the same for every call, and the
 * module has nothing the rewind cannot undo) and the release rewinds memory, globals and tables:
 * the next call's VM is built on exactly what a fresh instance has. Nothing is freed by hand:
 * the release throws the whole heap away.
 *
 * `sharedModuleVm` is the baseline the pool is measured against: one instance for every call,
 * a new runtime and context per call, freed after it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createPool, readBytes, readString, writeBytes, writeString } from 'cowpool';
import { quickJsImports } from './quickjs-imports.mjs';

const require = createRequire(import.meta.url);
export const QUICKJS_WASM = readFileSync(require.resolve('@jitl/quickjs-wasmfile-release-sync/package.json').replace(/package\.json$/, 'dist/emscripten-module.wasm'));

/** The exports used (minified names, from the glue's export table). */
const X = {
  ctors: 'u', malloc: 'v', newRuntime: 'K', freeRuntime: 'L', newContext: 'N', freeContext: 'O',
  freeValue: 'P', freeCString: 'S', resolveException: 'na', dump: 'oa', eval: 'pa',
  setMemoryLimit: 'y', enableInterrupts: 'Fa',
};

const encoder = new TextEncoder();

function cString(memory, ptr) {
  const bytes = new Uint8Array(memory.buffer);
  let end = ptr;
  while (bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(ptr, end));
}

/** Copies `text` into the guest heap as a NUL-terminated string. */
function guestString(x, memory, text) {
  const bytes = encoder.encode(text);
  const ptr = x[X.malloc](bytes.length + 1);
  const heap = new Uint8Array(memory.buffer);
  heap.set(bytes, ptr);
  heap[ptr + bytes.length] = 0;
  return { ptr, length: bytes.length };
}

/** A new runtime (memory limit, interrupt handler on) and a context in it. */
function newVm(x, memoryLimit) {
  const rt = x[X.newRuntime]();
  if (memoryLimit !== undefined) x[X.setMemoryLimit](rt, memoryLimit);
  x[X.enableInterrupts](rt);
  return { rt, ctx: x[X.newContext](rt, 0) };
}

/**
 * Evaluates `code` in `vm` (a new one when null); returns `{ ok, value }` (the result's JSON
 * dump) or `{ ok: false, error }`. `free` frees what was made (the shared baseline).
 */
function evaluateIn(x, memory, code, { memoryLimit, free, vm = null }) {
  const { rt, ctx } = vm ?? newVm(x, memoryLimit);
  const source = guestString(x, memory, code);
  const name = guestString(x, memory, 'sandbox.js');
  const value = x[X.eval](ctx, source.ptr, source.length, name.ptr, 0, 0);
  const error = x[X.resolveException](ctx, value);
  const dumped = x[X.dump](ctx, error !== 0 ? error : value);
  const text = cString(memory, dumped);
  if (free) {
    x[X.freeCString](ctx, dumped);
    x[X.freeValue](ctx, value);
    if (error !== 0) x[X.freeValue](ctx, error);
    x[X.freeContext](ctx);
    x[X.freeRuntime](rt);
  }
  return error !== 0 ? { ok: false, error: text } : { ok: true, value: text };
}

/** Per-call host state: output collected, the deadline the interrupt handler checks. */
function callData(deadlineMs) {
  return { output: [], outputBytes: 0, deadline: deadlineMs === undefined ? Infinity : performance.now() + deadlineMs };
}

/** A ctx for an instance the pool does not serve (the snapshot's initializing one, the baseline). */
function ownContext(getMemory, getData) {
  const ctx = {
    get memory() { return getMemory(); },
    get data() { return getData(); },
    exports: null,
    readString: (ptr, len) => readString(ctx, ptr, len),
    writeString: (ptr, cap, text, nul) => writeString(ctx, ptr, cap, text, nul),
    readBytes: (ptr, len) => readBytes(ctx, ptr, len),
    writeBytes: (ptr, bytes) => writeBytes(ctx, ptr, bytes),
  };
  return ctx;
}

/**
 * A pool of QuickJS VMs: `evaluate(code)` runs in a fresh VM each call.
 *
 * With `snapshot` (the default), prepare runs the constructors and makes the runtime and
 * context once, and the module every tenant gets is that state (`initialize`): a call only
 * evaluates. Every call then starts from the same VM, Math.random's seed included.
 * @param {{ strategy?: 'cow' | 'reuse' | 'copy' | 'fresh', maxSlots?: number, memoryLimit?: number, deadlineMs?: number, resetMode?: string, snapshot?: boolean }} options
 */
export async function createQuickJsSandbox({ strategy = 'reuse', maxSlots = 1, memoryLimit = 8 << 20, deadlineMs = 1000, resetMode, snapshot = true } = {}) {
  const pool = createPool({ strategy, limits: { maxSlots }, ...(resetMode === undefined ? {} : { reset: { mode: resetMode } }) });
  let initMemory = null;
  const initData = callData(undefined);
  const initialize = {
    imports: quickJsImports(ownContext(() => initMemory, () => initData)),
    run: (instance, memory) => {
      initMemory = memory;
      instance.exports[X.ctors]();
      return newVm(instance.exports, memoryLimit);
    },
  };
  const prepared = await pool.prepare(QUICKJS_WASM, { name: 'quickjs', host: quickJsImports, ...(snapshot ? { initialize } : {}) });
  const vm = snapshot ? prepared.initialized : null;
  return {
    pool,
    prepared,
    /** @param {string} code @returns {{ ok: boolean, value?: string, error?: string, output: string }} */
    evaluate(code) {
      const data = callData(deadlineMs);
      const lease = pool.instantiate(prepared, { data });
      try {
        const x = lease.exports;
        if (vm === null) x[X.ctors]();
        return { ...evaluateIn(x, lease.memory, code, { memoryLimit, free: false, vm }), output: data.output.join('') };
      } finally {
        lease.release();
      }
    },
    close: () => pool.close(),
  };
}

/** The baseline: one plain instance for every call, a new runtime and context per call. */
export function sharedModuleVm({ memoryLimit = 8 << 20, deadlineMs = 1000 } = {}) {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 32768 });
  let data = callData(deadlineMs);
  // The same imports, with a ctx of our own: this instance has one tenant forever.
  const imports = quickJsImports(ownContext(() => memory, () => data));
  imports.a.a = memory;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(QUICKJS_WASM), imports);
  const x = instance.exports;
  x[X.ctors]();
  return {
    evaluate(code) {
      data = callData(deadlineMs);
      return { ...evaluateIn(x, memory, code, { memoryLimit, free: true }), output: data.output.join('') };
    },
  };
}
