/**
 * wasiReactorInitializer: a snapshot initializer for WASI reactors (what
 * `cowpool serve --initialize` uses): `_initialize`, then the named export,
 * on a host of its own; every tenant then starts from that state. A missing
 * export, or one that returns non-zero, fails the prepare.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPool, wasiReactorInitializer } from '../src/index.js';

const SQLITE = readFileSync(new URL('../examples/sqlite-endpoint/handler.wasm', import.meta.url));
const REACTOR = readFileSync(new URL('fixtures/wasi/reactor.wasm', import.meta.url));

describe('wasiReactorInitializer', () => {
  it('runs the export once on its own host (with its options); every run starts from that state', async () => {
    const pool = createPool({ strategy: 'cow' });
    try {
      const prepared = await pool.prepare(SQLITE, { initialize: wasiReactorInitializer('cowpool_init', { env: { SQLITE_ROWS: '57' } }) });
      for (const sql of ['DELETE FROM items; SELECT count(*) FROM items;', 'SELECT count(*) FROM items;']) {
        // No SQLITE_ROWS at run time: the rows are the snapshot's (57), not a fresh load's (40,000).
        const r = pool.runWasi(prepared, { stdin: sql });
        expect(r.exitCode).toBe(0);
        expect(new TextDecoder().decode(r.stdout).trim().split('\n').at(-1)).toBe(sql.startsWith('DELETE') ? '0' : '57');
      }
    } finally {
      pool.close();
    }
  });

  it('a missing export, or one returning non-zero, fails the prepare and names it', async () => {
    const pool = createPool({ strategy: 'cow' });
    try {
      await expect(pool.prepare(REACTOR, { initialize: wasiReactorInitializer('nope') })).rejects.toThrow(/no function "nope"/);
      await expect(pool.prepare(REACTOR, { initialize: wasiReactorInitializer('greet') })).rejects.toThrow(/"greet" returned 1/);
      const ok = await pool.prepare(REACTOR);
      expect(ok.pooled).toBe(true);
    } finally {
      pool.close();
    }
  });
});
