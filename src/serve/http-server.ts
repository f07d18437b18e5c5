/**
 * `cowpool serve`'s HTTP side. The request path reads top to bottom:
 *
 *   request ──► route (404) ──► body within the cap (413) ──► queue (503)
 *           ──► a worker runs the handler, fresh pooled instance, within
 *               the deadline (504) ──► trap (500) / CGI parse (502)
 *           ──► response, one log line, metrics
 *
 * A failed request is a status code and a log line, never the server's end;
 * an error body names the request id and nothing of any handler's output.
 * The server keeps no state between requests (the workers' pools hold only
 * clean slots between them), so several processes scale out behind any load
 * balancer.
 */
import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cgiEnvironment } from './cgi-environment.js';
import { parseCgiResponse } from './cgi-response.js';
import { MetricsRegistry } from './metrics-registry.js';
import { RequestLog } from './request-log.js';
import { QueueFullError, RequestWorkers } from './request-workers.js';
import { RouteTable } from './route-table.js';
import type { RouteConfig, ServeConfig } from './serve-config-schema.js';
import type { ServeJob, ServeResult, ServeWorkerData } from './serve-protocol.js';

export const METRICS_PATH = '/_cowpool/metrics';

export interface ServeOptions {
  /** The worker entry (default: the real request worker). Tests pass their own. */
  readonly workerScript?: URL;
  /** Where log lines go (default: stderr). */
  readonly log?: (line: string) => void;
  /** Workers when the configuration leaves it out. */
  readonly defaultWorkers: number;
}

interface IndexedRoute extends RouteConfig {
  readonly index: number;
}

export class CowpoolServer {
  readonly metrics = new MetricsRegistry();
  readonly #config: ServeConfig;
  readonly #routes: RouteTable<IndexedRoute>;
  readonly #workers: RequestWorkers<ServeResult>;
  readonly #log: RequestLog;
  readonly #server: Server;
  readonly #idPrefix = randomBytes(3).toString('hex');
  #nextId = 0;
  #closing: Promise<void> | null = null;

  constructor(config: ServeConfig, options: ServeOptions) {
    this.#config = config;
    this.#routes = new RouteTable(config.routes.map((r, index) => ({ ...r, index })));
    const workerData: ServeWorkerData = {
      routes: config.routes.map((r) => ({
        module: r.module,
        ...(r.initialize === undefined ? {} : { initialize: r.initialize }),
        ...(r.maxMemoryBytes === undefined ? {} : { maxMemoryBytes: r.maxMemoryBytes }),
      })),
      pool: config.pool ?? {},
      maxOutputBytes: config.limits.maxOutputBytes,
    };
    this.#workers = new RequestWorkers<ServeResult>({
      // The compiled worker, also when this file runs from src/ (tests): a worker thread runs plain JavaScript.
      script: options.workerScript ?? new URL('../../dist/serve/request-worker.js', import.meta.url),
      workerData,
      size: config.workers ?? options.defaultWorkers,
      maxWaiting: config.queue.maxWaiting,
      onRestart: () => this.metrics.workerRestarted(),
    });
    this.#log = new RequestLog(config.log.format, options.log ?? ((line) => process.stderr.write(`${line}\n`)));
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    // Slow or idle clients must not pin sockets forever.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 60_000;
  }

  /** Starts the workers and listens; resolves with the URL once both are ready. */
  async listen(): Promise<string> {
    await this.#workers.ready();
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#config.port, this.#config.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Stops accepting, lets in-flight requests finish within limits.graceMs, stops the workers. */
  close(graceMs = this.#config.limits.graceMs): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await this.#workers.close(graceMs);
      this.#server.closeAllConnections();
      await closed;
    })();
    return this.#closing;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const id = `${this.#idPrefix}-${(this.#nextId++).toString(36)}`;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    let routePattern = '';
    let note = '';
    const finish = (status: number, headers: ReadonlyArray<readonly [string, string]>, body: Uint8Array | string): void => {
      if (!res.headersSent) {
        res.statusCode = status;
        for (const [name, value] of headers) res.appendHeader(name, value);
        res.setHeader('X-Request-Id', id);
        res.end(body);
      }
      const seconds = (performance.now() - started) / 1000;
      this.metrics.observeRequest(routePattern, status, seconds);
      this.#log.request({ id, method: req.method ?? '?', path, status, ms: seconds * 1000, route: routePattern, note });
    };
    const fail = (status: number, why: string, headers: ReadonlyArray<readonly [string, string]> = []): void => {
      note = why;
      // Names the request id only: nothing of any handler's output or state.
      finish(status, [['Content-Type', 'text/plain; charset=utf-8'], ...headers], `${status} ${STATUS_CODES[status] ?? ''}: request ${id}\n`);
    };

    try {
      if (path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
        this.metrics.setQueueDepth(this.#workers.queueDepth);
        this.metrics.setInFlight(this.#workers.inFlight);
        routePattern = METRICS_PATH;
        finish(200, [['Content-Type', 'text/plain; version=0.0.4; charset=utf-8']], this.metrics.render());
        return;
      }
      if (this.#closing !== null) {
        fail(503, 'shutting down', [['Connection', 'close']]);
        return;
      }
      const match = this.#routes.match(path);
      if (match === undefined) {
        fail(404, 'no route');
        return;
      }
      routePattern = match.pattern;
      const body = await readBody(req, this.#config.limits.maxBodyBytes);
      if (body === null) {
        fail(413, `body over limits.maxBodyBytes (${this.#config.limits.maxBodyBytes})`, [['Connection', 'close']]);
        return;
      }
      const route = match.route;
      const socket = req.socket;
      const job: ServeJob = {
        route: route.index,
        args: [route.path, ...route.args],
        env: cgiEnvironment(
          {
            method: req.method ?? 'GET',
            path,
            query,
            headers: req.headers,
            bodyLength: body.length,
            httpVersion: req.httpVersion,
            remoteAddress: socket.remoteAddress ?? '',
            serverName: (req.headers.host ?? this.#config.host).replace(/:\d+$/, ''),
            serverPort: socket.localPort ?? this.#config.port,
          },
          match,
          route.env,
        ),
        stdin: body,
      };
      let outcome;
      try {
        outcome = await this.#workers.run(job, route.deadlineMs ?? this.#config.limits.deadlineMs, [body.buffer as ArrayBuffer]);
      } catch (e) {
        if (!(e instanceof QueueFullError)) throw e;
        fail(503, 'queue full', [['Retry-After', String(this.#config.queue.retryAfterSeconds)]]);
        return;
      }
      switch (outcome.kind) {
        case 'deadline':
          fail(504, `deadline of ${route.deadlineMs ?? this.#config.limits.deadlineMs} ms passed; worker replaced`);
          return;
        case 'died':
          fail(500, `worker died: ${outcome.reason}`);
          return;
        case 'closed':
          fail(503, 'shutting down', [['Connection', 'close']]);
          return;
        case 'result':
          break;
      }
      const result = outcome.value;
      this.metrics.setPoolStats(result.worker, result.stats);
      if (result.kind !== 'error') this.#log.stderr(id, result.stderr);
      if (result.kind === 'trap') {
        fail(500, `trap: ${result.message}`);
        return;
      }
      if (result.kind === 'error') {
        fail(500, `error: ${result.message}`);
        return;
      }
      if (result.truncated) {
        fail(502, `output over limits.maxOutputBytes (${this.#config.limits.maxOutputBytes})`);
        return;
      }
      if (result.exitCode !== 0) note = `exit code ${result.exitCode}`;
      const parsed = parseCgiResponse(result.stdout);
      if (!parsed.ok) {
        fail(502, `malformed CGI response: ${parsed.reason}`);
        return;
      }
      finish(parsed.response.status, parsed.response.headers, parsed.response.body);
    } catch (e) {
      fail(500, `internal: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** The request body, or null when it is (or says it will be) larger than `cap`. */
async function readBody(req: IncomingMessage, cap: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > cap) {
    req.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > cap) {
      req.resume();
      return null;
    }
    chunks.push(chunk);
  }
  // A fresh ArrayBuffer of exactly the body, so it can be transferred to the worker.
  const body = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}
