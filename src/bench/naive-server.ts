/**
 * The servers `cowpool bench serve` measures cowpool serve against, each a
 * child process running one node:http server on its main thread:
 *
 *   naive      what a user writes first: a new plain V8 instance of the
 *              module per request, with cowpool's WASI host
 *   node-wasi  a new instance per request on Node's own node:wasi, stdio
 *              through files
 *   floor      the same HTTP server answering without running any
 *              WebAssembly: what HTTP itself costs here
 *
 * Usage: node dist/bench/naive-server.js <naive|node-wasi|floor> <module.wasm>
 * Prints `listening on http://127.0.0.1:PORT` once ready.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { runWasi } from '../host/run-wasi.js';
import { WasiHost } from '../host/wasi-host.js';
import { parseCgiResponse } from '../serve/cgi-response.js';

export const NAIVE_MODES = ['naive', 'node-wasi', 'floor'] as const;
export type NaiveMode = (typeof NAIVE_MODES)[number];

function cgiEnv(method: string, url: string, headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const q = url.indexOf('?');
  const env: Record<string, string> = {
    REQUEST_METHOD: method,
    PATH_INFO: q < 0 ? url : url.slice(0, q),
    QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
    SERVER_PROTOCOL: 'HTTP/1.1',
  };
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') env[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  return env;
}

/** One request on node:wasi, stdio through files (node:wasi takes descriptors only). */
function runNodeWasi(module: WebAssembly.Module, env: Record<string, string>, body: Uint8Array, scratch: string): Uint8Array {
  const stdinPath = join(scratch, 'stdin');
  const stdoutPath = join(scratch, 'stdout');
  writeFileSync(stdinPath, body);
  writeFileSync(stdoutPath, '');
  const stdin = openSync(stdinPath, 'r');
  const stdout = openSync(stdoutPath, 'w');
  const stderr = openSync('/dev/null', 'w');
  try {
    const wasi = new WASI({ version: 'preview1', env, stdin, stdout, stderr, returnOnExit: true });
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport } as WebAssembly.Imports);
    const { memory, _initialize: init, _start: start } = instance.exports as Record<string, unknown>;
    if (typeof init === 'function') {
      // A reactor that also exports _start (examples/sqlite-endpoint): node:wasi's start()
      // refuses modules exporting _initialize, so bind its memory through initialize() and call _start.
      wasi.initialize({ exports: { memory, _initialize: init } } as unknown as WebAssembly.Instance);
      (start as () => void)();
    } else {
      wasi.start(instance);
    }
  } finally {
    closeSync(stdin);
    closeSync(stdout);
    closeSync(stderr);
  }
  return readFileSync(stdoutPath);
}

export function startNaiveServer(mode: NaiveMode, modulePath: string): Promise<{ url: string; close(): void }> {
  const module = new WebAssembly.Module(readFileSync(modulePath));
  const host = new WasiHost();
  const scratch = mkdtempSync(join(tmpdir(), 'cowpool-naive-'));
  const floorBody = Buffer.from('before=pristine\n');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (mode === 'floor') {
          res.setHeader('Content-Type', 'text/plain');
          res.end(floorBody);
          return;
        }
        const env = cgiEnv(req.method ?? 'GET', req.url ?? '/', req.headers);
        const body = new Uint8Array(Buffer.concat(chunks));
        const stdout = mode === 'naive' ? runWasi(module, { host, env, stdin: body }).stdout : runNodeWasi(module, env, body, scratch);
        const parsed = parseCgiResponse(stdout);
        if (!parsed.ok) {
          res.statusCode = 502;
          res.end();
          return;
        }
        res.statusCode = parsed.response.status;
        for (const [k, v] of parsed.response.headers) res.appendHeader(k, v);
        res.end(parsed.response.body);
      } catch {
        res.statusCode = 500;
        res.end();
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => {
          server.close();
          rmSync(scratch, { recursive: true, force: true });
        },
      });
    });
  });
}

// As a child process entry.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [mode, modulePath] = process.argv.slice(2) as [NaiveMode, string];
  if (!(NAIVE_MODES as readonly string[]).includes(mode) || modulePath === undefined) {
    process.stderr.write(`usage: naive-server.js <${NAIVE_MODES.join('|')}> <module.wasm>\n`);
    process.exit(2);
  }
  const s = await startNaiveServer(mode, modulePath);
  process.stdout.write(`listening on ${s.url}\n`);
  process.on('SIGTERM', () => {
    s.close();
    process.exit(0);
  });
}
