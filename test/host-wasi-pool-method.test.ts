/**
 * pool.runWasi: the WASI host's functions are made once per slot, so every
 * run sees a fresh tenant (the 1 MiB image as the module has it, the output
 * of a plain instance) and `reuse` keeps one instance across runs.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPool, runWasi, runWasiInPool, type Strategy } from '../src/index.js';
import { corpusModule, corpusPath, text } from './helpers/wasi-corpus.js';

const DATA = readFileSync(corpusPath('data-1mib'));

/** Counts the instances V8 is asked to create from here on. */
function countInstances(): { readonly count: number } {
  const counter = { count: 0 };
  const Original = WebAssembly.Instance;
  vi.spyOn(WebAssembly, 'Instance').mockImplementation(function (this: unknown, module: WebAssembly.Module, imports?: WebAssembly.Imports) {
    counter.count += 1;
    return new Original(module, imports);
  } as unknown as () => WebAssembly.Instance);
  return counter;
}

afterEach(() => vi.restoreAllMocks());

describe('pool.runWasi', () => {
  for (const strategy of ['cow', 'copy', 'reuse', 'fresh'] as Strategy[]) {
    it(`${strategy}: every run sees the image as fresh, with the output of a plain instance`, async () => {
      const pool = createPool({ strategy, limits: { maxSlots: 2 } });
      try {
        const prepared = await pool.prepare(DATA, { name: 'data-1mib' });
        const plain = runWasi(corpusModule('data-1mib'), { args: ['data-1mib', '12345'] });
        expect(text(plain.stdout)).toBe('sum=112\n');
        // The program increments the byte at argv[1]; a run that saw the last one's write would print another sum.
        for (let i = 0; i < 4; i++) {
          const pooled = pool.runWasi(prepared, { args: ['data-1mib', '12345'] });
          expect({ run: i, exitCode: pooled.exitCode, stdout: text(pooled.stdout) }).toEqual({ run: i, exitCode: 0, stdout: text(plain.stdout) });
        }
        expect(pool.stats().leases).toMatchObject({ active: 0, acquired: 4, released: 4 });
      } finally {
        pool.close();
      }
    });
  }

  it('reuse keeps one instance across WASI runs; cow makes one per run', async () => {
    const created: Record<string, number> = {};
    for (const strategy of ['reuse', 'cow'] as Strategy[]) {
      const pool = createPool({ strategy, limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(DATA, { name: 'data-1mib' });
      const counter = countInstances();
      for (let i = 0; i < 5; i++) expect(text(pool.runWasi(prepared, { args: ['x', String(100 + i)] }).stdout)).toMatch(/^sum=/);
      created[strategy] = counter.count;
      vi.restoreAllMocks();
      pool.close();
    }
    expect(created).toEqual({ reuse: 1, cow: 5 });
  });

  it('args, stdin and exit codes per run; a trap gives the slot back and the next run is served', async () => {
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    try {
      const echo = await pool.prepare(readFileSync(corpusPath('echo')));
      const exit = await pool.prepare(readFileSync(corpusPath('exit-code')));
      const trap = await pool.prepare(readFileSync(corpusPath('trap')));
      expect(text(pool.runWasi(echo, { stdin: 'first' }).stdout)).toBe('FIRST');
      expect(text(pool.runWasi(echo, { stdin: 'second run' }).stdout)).toBe('SECOND RUN');
      expect(pool.runWasi(exit, { args: ['exit-code', '7'] }).exitCode).toBe(7);
      expect(() => pool.runWasi(trap, {})).toThrow(WebAssembly.RuntimeError);
      expect(pool.stats().leases.active).toBe(0);
      expect(pool.runWasi(exit, { args: ['exit-code', '3'] }).exitCode).toBe(3);
    } finally {
      pool.close();
    }
  });

  it('runWasiInPool refuses a module prepared with host bindings and names pool.runWasi', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const withHost = await pool.prepare(readFileSync(corpusPath('echo')), { host: () => ({}) });
      expect(() => runWasiInPool(pool, withHost, { stdin: 'x' })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('pool.runWasi') }),
      );
      expect(pool.stats().leases.active).toBe(0);
    } finally {
      pool.close();
    }
  });
});
