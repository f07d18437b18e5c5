/**
 * examples/quickjs-sandbox: QuickJS's wasm with its own small set of imports
 * (no Emscripten glue) evaluates untrusted code in a fresh VM per call. Under
 * `reuse` the slot keeps one instance (the module is eligible) and every call
 * still starts from what a fresh instance has; results match the shared-module
 * baseline's. With the snapshot (prepare's `initialize`), the runtime and
 * context are made once at prepare and every call starts from them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
// @ts-expect-error the example is plain JavaScript
import { createQuickJsSandbox, sharedModuleVm } from '../examples/quickjs-sandbox/quickjs-sandbox.mjs';

interface Result { ok: boolean; value?: string; error?: string; output: string }
interface Sandbox {
  evaluate(code: string): Result;
  close(): void;
  pool: { stats(): { modules: { reuse: { eligible: boolean; refusals: unknown[] } | null }[] } };
}
const create = createQuickJsSandbox as (options?: object) => Promise<Sandbox>;
const shared = sharedModuleVm as (options?: object) => { evaluate(code: string): Result };

const PROGRAMS = [
  '1 + 2',
  '[1, 2, 3].map((x) => x * 2)',
  'JSON.stringify({ a: [1, "b", null] })',
  'typeof require + typeof process + typeof globalThis.fetch',
  'throw new TypeError("nope")',
  'Math.max(...Array.from({ length: 1000 }, (_, i) => i))',
];

afterEach(() => vi.restoreAllMocks());

const CONFIGS = [
  { strategy: 'reuse', snapshot: true },
  { strategy: 'cow', snapshot: true },
  { strategy: 'reuse', snapshot: false },
] as const;

describe.each(CONFIGS)('QuickJS sandbox: $strategy, snapshot $snapshot', ({ strategy, snapshot }) => {
  it('evaluates like the shared-module baseline, in a fresh VM every call', async () => {
    const sandbox = await create({ strategy, snapshot });
    const baseline = shared();
    try {
      for (const code of PROGRAMS) expect(sandbox.evaluate(code), code).toEqual(baseline.evaluate(code));
      expect(sandbox.evaluate('globalThis.leak = "secret"; 1').value).toBe('1');
      expect(sandbox.evaluate('typeof leak').value).toBe('"undefined"');
      expect(sandbox.evaluate('Object.prototype.polluted = 1; 2').value).toBe('2');
      expect(sandbox.evaluate('({}).polluted').value).toBe('undefined');
    } finally {
      sandbox.close();
    }
  });

  it('a runaway loop is interrupted at the deadline; the next call is served', async () => {
    const sandbox = await create({ strategy, snapshot, deadlineMs: 50 });
    try {
      expect(sandbox.evaluate('for (;;) {}')).toMatchObject({ ok: false, error: expect.stringContaining('interrupted') });
      expect(sandbox.evaluate('"next"').value).toBe('"next"');
    } finally {
      sandbox.close();
    }
  });

  it('a memory bomb stops at the memory limit; the next call is served', async () => {
    // A deadline far beyond what filling 4 MiB takes, so the limit is what stops it.
    const sandbox = await create({ strategy, snapshot, deadlineMs: 600_000, memoryLimit: 4 << 20 });
    try {
      expect(sandbox.evaluate('const a = []; for (;;) a.push(new Array(1e4).fill(1))')).toMatchObject({ ok: false, error: expect.stringContaining('out of memory') });
      expect(sandbox.evaluate('"next"').value).toBe('"next"');
    } finally {
      sandbox.close();
    }
  });
});

describe('QuickJS sandbox: reuse keeps one instance', () => {
  it('is eligible, and makes one instance for many calls', async () => {
    // Created before counting: the snapshot's initializing instance is prepare's, not a call's.
    const sandbox = await create({ strategy: 'reuse' });
    const Original = WebAssembly.Instance;
    let created = 0;
    vi.spyOn(WebAssembly, 'Instance').mockImplementation(function (module: WebAssembly.Module, imports?: WebAssembly.Imports) {
      created += 1;
      return new Original(module, imports);
    } as unknown as () => WebAssembly.Instance);
    try {
      expect(sandbox.pool.stats().modules[0]?.reuse).toEqual({ eligible: true, refusals: [] });
      for (let i = 0; i < 5; i++) expect(sandbox.evaluate(`globalThis.n = (globalThis.n ?? 0) + 1; n`).value).toBe('1');
      expect(created).toBe(1);
    } finally {
      sandbox.close();
    }
  });
});
