/**
 * runWasiInPool: a WASI command on a fresh pooled instance through the pool's
 * public API. Each run sees the module's initial data even though the one
 * before wrote to it, gets the same output as a plain instance, gives its
 * slot back (after a trap too), and one host serves every run.
 */
import { describe, expect, it } from 'vitest';
import { createPool, runWasi, runWasiInPool, WasiHost, wasiHost, type Strategy } from '../src/index.js';
import { corpusModule, corpusPath, text } from './helpers/wasi-corpus.js';
import { readFileSync } from 'node:fs';

const DATA = readFileSync(corpusPath('data-1mib'));

describe('WASI in the pool', () => {
  for (const strategy of ['cow', 'copy', 'reuse'] as Strategy[]) {
    it(`${strategy}: every run sees the 1 MiB image as fresh, with the output of a plain instance`, async () => {
      const pool = createPool({ strategy, limits: { maxSlots: 2 } });
      try {
        const prepared = await pool.prepare(DATA, { name: 'data-1mib' });
        expect(prepared.pooled).toBe(true);
        const host = new WasiHost();
        const plain = runWasi(corpusModule('data-1mib'), { args: ['data-1mib', '12345'] });
        expect(text(plain.stdout)).toBe('sum=112\n');
        // The program increments the byte at argv[1]; the next run reads it as part of its sum.
        for (let i = 0; i < 4; i++) {
          const pooled = runWasiInPool(pool, prepared, { host, args: ['data-1mib', '12345'] });
          expect({ run: i, exitCode: pooled.exitCode, stdout: text(pooled.stdout) }).toEqual({ run: i, exitCode: 0, stdout: text(plain.stdout) });
        }
        const stats = pool.stats();
        expect(stats.leases).toMatchObject({ active: 0, acquired: 4, released: 4 });
      } finally {
        pool.close();
      }
    });
  }

  it('a trap is thrown as WebAssembly.RuntimeError and the slot goes back; the next run is served', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const trap = await pool.prepare(readFileSync(corpusPath('trap')), { name: 'trap' });
      const args = await pool.prepare(readFileSync(corpusPath('args')), { name: 'args' });
      expect(() => runWasiInPool(pool, trap, {})).toThrow(WebAssembly.RuntimeError);
      expect(pool.stats().leases.active).toBe(0);
      // One slot only: this run is served only if the trapped run gave its slot back.
      const result = runWasiInPool(pool, args, { args: ['args', 'after'] });
      expect(text(result.stdout)).toBe('argc=2\nargv[0]=args\nargv[1]=after\n');
    } finally {
      pool.close();
    }
  });

  it('proc_exit codes and stdin go through the pool like through a plain instance', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const exit = await pool.prepare(readFileSync(corpusPath('exit-code')));
      const echo = await pool.prepare(readFileSync(corpusPath('echo')));
      expect(runWasiInPool(pool, exit, { args: ['exit-code', '9'] }).exitCode).toBe(9);
      const echoed = runWasiInPool(pool, echo, { stdin: 'pooled stdin' });
      expect(text(echoed.stdout)).toBe('POOLED STDIN');
      expect(text(echoed.stderr)).toBe('read 12 bytes\n');
    } finally {
      pool.close();
    }
  });

  it('a pooled prepared module given to runWasi is refused with a pointer to runWasiInPool', async () => {
    const pool = createPool({ strategy: 'cow' });
    try {
      const prepared = await pool.prepare(DATA);
      expect(() => runWasi(prepared)).toThrow(/runWasiInPool/);
    } finally {
      pool.close();
    }
  });

  it('a reactor on a pooled instance: the session binds the lease\'s memory', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(readFileSync(corpusPath('reactor')), { name: 'reactor' });
      for (const who of ['first', 'second']) {
        const session = wasiHost({ env: { WHO: who } });
        const lease = pool.instantiate(prepared, session.imports as unknown as WebAssembly.Imports);
        try {
          session.initialize(lease.exports, lease.memory as WebAssembly.Memory);
          const greet = lease.exports['greet'] as () => number;
          // The call count starts at 1 for each tenant: the previous tenant's counter was reset with its slot.
          expect(greet()).toBe(1);
        } finally {
          lease.release();
        }
        expect(text(session.finish().stdout)).toBe(`initialized for ${who}\nhello ${who} #1\n`);
      }
    } finally {
      pool.close();
    }
  });
});
