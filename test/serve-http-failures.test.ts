import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CowpoolServer } from '../src/serve/http-server.js';
import { ServeConfigSchema } from '../src/serve/serve-config-schema.js';
import { send, type Reply } from './support/http-client.js';

const fake = new URL('./fixtures/serve/fake-wasi-worker.mjs', import.meta.url);

let server: CowpoolServer;
let base: string;
const logs: string[] = [];

beforeAll(async () => {
  const config = ServeConfigSchema.parse({
    host: '127.0.0.1',
    port: 0,
    workers: 1,
    queue: { maxWaiting: 1, retryAfterSeconds: 7 },
    limits: { deadlineMs: 3000, maxBodyBytes: 64, maxOutputBytes: '1KiB', graceMs: 500 },
    routes: ['env', 'status', 'redirect', 'trap', 'malformed', 'big', 'secret'].map((name) => ({
      path: name === 'env' ? '/env/...' : `/${name}`,
      module: `/fake/${name}.wasm`,
      env: { ROUTE_VAR: name },
      args: ['--flag'],
    })).concat([{ path: '/spin', module: '/fake/spin.wasm', env: {}, args: [], deadlineMs: 150 } as never]),
  });
  server = new CowpoolServer(config, { workerScript: fake, defaultWorkers: 1, log: (l) => logs.push(l) });
  base = await server.listen();
});
afterAll(async () => {
  await server.close(200);
});

describe('cowpool serve: the request path', () => {
  it('passes the body as stdin and the CGI variables in the environment, and returns the CGI response', async () => {
    const r = await send(base, '/env/a/b?x=1', { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain', 'X-Thing': 'y' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const seen = JSON.parse(r.body) as { args: string[]; env: Record<string, string>; body: string };
    expect(seen.body).toBe('hello');
    expect(seen.args).toEqual(['/env/...', '--flag']);
    expect(seen.env).toMatchObject({
      REQUEST_METHOD: 'POST', PATH_INFO: '/a/b', SCRIPT_NAME: '/env', QUERY_STRING: 'x=1', CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '5', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', X_MATCHED_ROUTE: '/env/...', HTTP_X_THING: 'y', ROUTE_VAR: 'env',
    });
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{6}-/);
    // stderr goes to the log, tagged with the request id.
    expect(logs.some((l) => l.includes(`${String(r.headers['x-request-id'])} stderr: a line on stderr`))).toBe(true);
  });

  it('Status and Location from the handler set the response status', async () => {
    const s = await send(base, '/status');
    expect(s.status).toBe(418);
    expect(s.headers['x-handler']).toBe('yes');
    expect(s.body).toBe('short and stout');
    const l = await send(base, '/redirect');
    expect(l.status).toBe(302);
    expect(l.headers.location).toBe('/elsewhere');
  });

  const errorBody = (r: Reply): void => {
    // The error body names the request id and nothing of the handler's output.
    expect(r.body).toBe(`${r.status} ${STATUS_CODES[r.status] ?? ''}: request ${String(r.headers['x-request-id'])}\n`);
    expect(r.body).not.toContain('secret');
  };

  it('unknown route → 404', async () => {
    const r = await send(base, '/nowhere');
    expect(r.status).toBe(404);
    errorBody(r);
  });

  it('trap → 500, without the handler\'s stderr in the body', async () => {
    const r = await send(base, '/trap');
    expect(r.status).toBe(500);
    errorBody(r);
  });

  it('malformed CGI output → 502, output over the cap → 502', async () => {
    const m = await send(base, '/malformed');
    expect(m.status).toBe(502);
    errorBody(m);
    const b = await send(base, '/big');
    expect(b.status).toBe(502);
    errorBody(b);
  });

  it('body over the cap → 413, declared or streamed', async () => {
    const r = await send(base, '/env/x', { method: 'POST', body: 'x'.repeat(65) });
    expect(r.status).toBe(413);
    errorBody(r);
  });

  it('deadline → 504 and the worker is replaced; the next request is served', async () => {
    const before = server.metrics.workerRestarts;
    const r = await send(base, '/spin');
    expect(r.status).toBe(504);
    errorBody(r);
    expect(server.metrics.workerRestarts).toBe(before + 1);
    expect((await send(base, '/status')).status).toBe(418);
  });

  it('queue full → 503 with Retry-After', async () => {
    // One worker busy spinning, one request waiting: the third is refused.
    const spinning = send(base, '/spin');
    await new Promise((r) => setTimeout(r, 30));
    const waiting = send(base, '/status');
    await new Promise((r) => setTimeout(r, 30));
    const refused = await send(base, '/status');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('7');
    errorBody(refused);
    expect((await spinning).status).toBe(504);
    expect((await waiting).status).toBe(418);
  });

  it('no response carries another request\'s secret under concurrency', async () => {
    const secrets = Array.from({ length: 40 }, (_, i) => `s${i}-${Math.random().toString(36).slice(2)}`);
    const replies: Reply[] = [];
    // Within the queue's bound: two at a time.
    for (let i = 0; i < secrets.length; i += 2) {
      replies.push(...await Promise.all(secrets.slice(i, i + 2).map((s) => send(base, '/secret', { headers: { 'X-Secret': s } }))));
    }
    replies.forEach((r, i) => expect(r.body).toBe(secrets[i]));
  });

  it('GET /_cowpool/metrics reports requests by route and status, restarts and queue depth', async () => {
    const r = await send(base, '/_cowpool/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/cowpool_requests_total\{route="\/status",status="418"\} \d+/);
    expect(r.body).toMatch(/cowpool_requests_total\{route="",status="404"\} 1/);
    expect(r.body).toMatch(/cowpool_worker_restarts_total [1-9]/);
    expect(r.body).toContain('cowpool_queue_depth 0');
    expect(r.body).toMatch(/cowpool_pool_requests\{worker="\d+"\} \d+/);
  });

  it('logs one line per request with id, method, path, status and time', () => {
    const lines = logs.filter((l) => / (GET|POST) \/status 418 /.test(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ [0-9a-f]{6}-\w+ GET \/status 418 [\d.]+ms route=\/status$/);
  });
});
