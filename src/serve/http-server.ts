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
import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cgiEnvironment } from './cgi-environment.js';
import { parseCgiResponse } from './cgi-response.js';
import { MetricsRegistry } from './metrics-registry.js';
import { RequestLog } from './request-log.js';
import { QueueFullError, RequestWorkers } from './request-workers.js';
import { RouteTable } from './route-table.js';
import type { RouteConfig, ServeConfig } from './serve-config-schema.js';
import {
  decodeServeResult, encodeServeJob, maxJobBytes, slotResultBytes,
  type ServeResult, type ServeWorkerData, type ServeWorkerReport,
} from './serve-protocol.js';

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
        args: [r.path, ...r.args],
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
      requestBytes: maxJobBytes(config.limits.maxBodyBytes, envRoom(config)),
      responseBytes: slotResultBytes(config.limits.maxOutputBytes),
      decode: decodeServeResult,
      onRestart: () => this.metrics.workerRestarted(),
      onReport: (value) => {
        const report = value as ServeWorkerReport;
        this.metrics.setPoolStats(report.worker, report.stats);
      },
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
      const read = readBody(req, this.#config.limits.maxBodyBytes);
      const body = read instanceof Uint8Array ? read : await read;
      if (body === null) {
        fail(413, `body over limits.maxBodyBytes (${this.#config.limits.maxBodyBytes})`, [['Connection', 'close']]);
        return;
      }
      const route = match.route;
      const socket = req.socket;
      const job = encodeServeJob({
        route: route.index,
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
      });
      let outcome;
      try {
        outcome = await this.#workers.run(job, route.deadlineMs ?? this.#config.limits.deadlineMs);
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

/**
 * Bytes a job's environment may take, JSON-encoded: every header and the
 * request line can appear in it (HTTP_*, PATH_INFO, QUERY_STRING, ...), each
 * JSON-escaped, plus the largest route's own variables.
 */
function envRoom(config: ServeConfig): number {
  const routeEnv = Math.max(0, ...config.routes.map((r) => Buffer.byteLength(JSON.stringify(r.env))));
  return 8 * maxHeaderSize + routeEnv + 4096;
}

const NO_BODY = new Uint8Array(0);

/** The request body, or null when it is (or says it will be) larger than `cap`. */
function readBody(req: IncomingMessage, cap: number): Promise<Uint8Array | null> | Uint8Array {
  const length = req.headers['content-length'];
  // Most requests carry no body: answer without waiting for the stream's end (node:http discards it).
  if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) return NO_BODY;
  if (Number(length ?? 0) > cap) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > cap) {
        req.off('data', onData);
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => {
      if (total > cap) return;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    });
  });
}
