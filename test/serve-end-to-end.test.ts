import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../src/serve/serve-process.js';
import { send } from './support/http-client.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'wasi');
const dir = mkdtempSync(join(tmpdir(), 'cowpool-serve-'));

let server: ServerProcess;

beforeAll(async () => {
  const config = join(dir, 'serve.json');
  writeFileSync(config, JSON.stringify({
    workers: 2,
    limits: { deadlineMs: 5000, maxBodyBytes: '4KiB', graceMs: 5000 },
    routes: [
      { path: '/echo/...', module: join(fixtures, 'cgi-echo.wasm'), args: ['first-arg'] },
      { path: '/secret', module: join(fixtures, 'cgi-secret.wasm') },
      { path: '/trap', module: join(fixtures, 'cgi-trap.wasm') },
      { path: '/spin', module: join(fixtures, 'cgi-spin.wasm'), deadlineMs: 2000 },
      { path: '/grow-capped', module: join(fixtures, 'cgi-grow.wasm'), maxMemoryBytes: '4MiB' },
      { path: '/grow', module: join(fixtures, 'cgi-grow.wasm') },
      // 2 MB on stdout: more than a job ring slot holds (the result travels as a message).
      { path: '/big', module: join(fixtures, 'big-output.wasm'), args: ['2000000'] },
    ],
  }));
  server = await startServerProcess([join(root, 'bin', 'cowpool.js'), 'serve', '--config', config, '--port', '0']);
}, 60_000);

afterAll(async () => {
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('cowpool serve end to end (real sockets, real WASI modules)', () => {
  it('runs a WASI handler per request with the body on stdin and CGI variables in the environment', async () => {
    const r = await send(server.url, '/echo/a/b?q=1', { method: 'POST', body: 'hello body', headers: { 'Content-Type': 'text/x', 'X-Thing': 'y' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-argc']).toBe('2');
    expect(r.body).toBe([
      'method=POST', 'script=/echo', 'path_info=/a/b', 'query=q=1', 'content_type=text/x', 'content_length=10',
      'route=/echo/...', 'protocol=HTTP/1.1', 'remote=127.0.0.1', 'header=y', 'argv1=first-arg', 'body=hello body', '',
    ].join('\n'));
    expect(server.stderr()).toMatch(/stderr: handling POST \/a\/b/);
  });

  it('every request gets a fresh instance: no response carries another request\'s secret, under concurrency', async () => {
    const secrets = Array.from({ length: 60 }, (_, i) => `secret-${i}-${Math.random().toString(36).slice(2, 10)}`);
    const replies = await Promise.all(secrets.map((s) => send(server.url, '/secret', { headers: { 'X-Secret': s } })));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.body).toBe('before=pristine\n');
    }
  });

  it('a trap is a 500 naming only the request id; the server keeps serving', async () => {
    const r = await send(server.url, '/trap');
    expect(r.status).toBe(500);
    expect(r.body).toBe(`500 Internal Server Error: request ${String(r.headers['x-request-id'])}\n`);
    expect((await send(server.url, '/secret')).body).toBe('before=pristine\n');
  });

  it('a runaway request gets 504; requests on the other worker are not held up by it', async () => {
    let runawayDone = false;
    const runaway = send(server.url, '/spin').finally(() => {
      runawayDone = true;
    });
    const others = await Promise.all(Array.from({ length: 10 }, () => send(server.url, '/secret')));
    // All ten were answered by the other worker while the runaway still ran.
    expect(runawayDone).toBe(false);
    const r = await runaway;
    expect(r.status).toBe(504);
    for (const o of others) expect(o.status).toBe(200);
    const metrics = await send(server.url, '/_cowpool/metrics');
    expect(metrics.body).toMatch(/cowpool_worker_restarts_total [1-9]/);
    expect(metrics.body).toMatch(/cowpool_requests_total\{route="\/spin",status="504"\} 1/);
  });

  it('a route\'s memory cap clamps the module\'s memory: growing past it fails inside the module', async () => {
    expect((await send(server.url, '/grow-capped?1')).body).toBe('got 1 MiB\n');
    expect((await send(server.url, '/grow-capped?8')).body).toBe('refused 8 MiB\n');
    // The same module on a route without a cap gets the memory.
    expect((await send(server.url, '/grow?8')).body).toBe('got 8 MiB\n');
    // And the capped route still serves after the refusal.
    expect((await send(server.url, '/grow-capped?1')).body).toBe('got 1 MiB\n');
  });

  it('an output larger than a job slot reaches the server whole (here: 2 MB without CGI headers, so 502)', async () => {
    const r = await send(server.url, '/big');
    expect(r.status).toBe(502);
    // The log names what the server parsed: the handler's whole output arrived, not a deadline or a dead worker.
    const line = new RegExp(`${String(r.headers['x-request-id'])} GET /big 502 .*malformed CGI response: no blank line`);
    // The log line is written just after the response.
    for (let i = 0; i < 100 && !line.test(server.stderr()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.stderr()).toMatch(line);
    expect(server.stderr()).toMatch(new RegExp(`${String(r.headers['x-request-id'])} stderr: wrote 2000000`));
  });

  it('unknown route 404, body over the cap 413', async () => {
    expect((await send(server.url, '/nope')).status).toBe(404);
    expect((await send(server.url, '/echo/x', { method: 'POST', body: 'x'.repeat(5000) })).status).toBe(413);
  });

  it('SIGTERM drains the request in flight and exits 0', async () => {
    const inFlight = send(server.url, '/spin');
    await new Promise((r) => setTimeout(r, 50));
    server.child.kill('SIGTERM');
    const r = await inFlight;
    // The in-flight request was answered (here by its own deadline) before the process exited.
    expect(r.status).toBe(504);
    expect(await server.ended).toBe('exited with 0');
    expect(server.stderr()).toMatch(/SIGTERM: draining/);
  });
});
