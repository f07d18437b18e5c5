import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../src/serve/serve-process.js';
import { send } from './support/http-client.js';

/**
 * The SQLite endpoint (examples/sqlite-endpoint): every request runs its SQL
 * against a fresh copy of the database the initializer loaded — a snapshot.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const config = join(root, 'examples', 'sqlite-endpoint', 'serve.json');

async function post(base: string, sql: string): Promise<{ status: number; body: string }> {
  return send(base, '/query', { method: 'POST', body: sql, timeoutMs: 30_000 });
}

let server: ServerProcess;
let base: string;

beforeAll(async () => {
  server = await startServerProcess([join(root, 'bin', 'cowpool.js'), 'serve', '--config', config, '--port', '0', '--workers', '1'], 90_000);
  base = server.url;
}, 120_000);

afterAll(() => {
  server.child.kill('SIGKILL');
});

describe('examples/sqlite-endpoint under cowpool serve', () => {
  it('answers SQL against the loaded dataset', async () => {
    const r = await post(base, 'SELECT count(*) AS n, count(DISTINCT category) AS c FROM items;');
    expect(r.status).toBe(200);
    expect(r.body).toBe('n\tc\n40000\t8\n');
  });

  it('a request that deletes every row leaves the next request\'s database whole', async () => {
    const gone = await post(base, 'DELETE FROM items; DROP INDEX items_category; SELECT count(*) FROM items;');
    expect(gone.body).toBe('count(*)\n0\n');
    const whole = await post(base, 'SELECT count(*) FROM items WHERE category = \'books\';');
    expect(whole.body).toBe('count(*)\n5015\n');
  });

  it('a bad statement is the handler\'s own 400, and the next request is unaffected', async () => {
    const bad = await post(base, 'SELEC nonsense;');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/syntax error/);
    expect((await post(base, 'SELECT max(id) FROM items;')).body).toBe('max(id)\n40000\n');
  });
});
