import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The SQLite endpoint (examples/sqlite-endpoint): every request runs its SQL
 * against a fresh copy of the database the initializer loaded — a snapshot.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const config = join(root, 'examples', 'sqlite-endpoint', 'serve.json');

function post(base: string, sql: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/query`, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('client timeout')));
    req.end(sql);
  });
}

let child: ChildProcess;
let base: string;

beforeAll(async () => {
  child = spawn(process.execPath, [join(root, 'bin', 'cowpool.js'), 'serve', '--config', config, '--port', '0', '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line: ${err}`)), 90_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}, 120_000);

afterAll(() => {
  child.kill('SIGKILL');
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
