/**
 * `cowpool bench serve [handler.wasm]`: cowpool serve against a naive
 * server, node:wasi and the bare HTTP floor, under the same load, in one run.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CowpoolError } from '../errors.js';
import { runServeBench, serveBenchTable } from '../bench/serve-bench.js';
import { renderServeBenchSvg } from '../bench/serve-bench-svg.js';
import { flagHelp, parseArgs, type FlagSpec } from './cli-args.js';
import type { CliIo } from './cli-io.js';

const FLAGS: Record<string, FlagSpec> = {
  duration: { value: true, placeholder: 'S', description: 'measured seconds per server (default 10)' },
  warmup: { value: true, placeholder: 'S', description: 'warm-up seconds per server (default 2)' },
  connections: { value: true, placeholder: 'N', description: 'concurrent connections (default 16)' },
  workers: { value: true, placeholder: 'N,M', description: 'cowpool serve worker counts (default 1 and one per core)' },
  initialize: { value: true, placeholder: 'EXPORT', description: 'cowpool serve starts every request from a snapshot taken after this export ran' },
  body: { value: true, placeholder: 'TEXT', description: 'send this body with every request (POST), e.g. SQL for examples/sqlite-endpoint' },
  json: { value: true, placeholder: 'FILE', description: 'write the raw results as JSON' },
  md: { value: true, placeholder: 'FILE', description: 'write the table as Markdown' },
  svg: { value: true, placeholder: 'FILE', description: 'write a bar chart of requests per second as SVG' },
  help: { value: false, description: 'show this help' },
};

/** The bundled handler: a WASI CGI command with a 1 MiB data image that reads a little of it and writes one byte (source: test/fixtures/wasi/src/cgi-image.c). */
const DEFAULT_MODULE = fileURLToPath(new URL('../../test/fixtures/wasi/cgi-image.wasm', import.meta.url));

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new CowpoolError('INVALID_ARGUMENT', `bench serve: --${name} must be a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return Number(text);
}

export async function benchServeCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, FLAGS, 'bench serve');
  if (args.flags.has('help')) {
    io.stdout(`Usage: cowpool bench serve [handler.wasm] [options]\n\nRequests per second and latency (autocannon on loopback) of cowpool serve, a naive\nnode:http server making a new V8 instance per request, node:wasi per request, and\nthe same HTTP server answering without WebAssembly (the floor), in one run.\n\n${flagHelp(FLAGS)}\n`);
    return 0;
  }
  const value = (name: string): string | undefined => args.flags.get(name)?.[0];
  const module = resolve(args.positionals[0] ?? DEFAULT_MODULE);
  if (!existsSync(module)) throw new CowpoolError('INVALID_ARGUMENT', `bench serve: ${module} does not exist — pass the path of a WASI CGI handler (.wasm)`);
  const workers = value('workers')?.split(',').map((w) => count('workers', w, 1));
  const report = await runServeBench({
    module,
    durationSeconds: count('duration', value('duration'), 10),
    warmupSeconds: value('warmup') === '0' ? 0 : count('warmup', value('warmup'), 2),
    connections: count('connections', value('connections'), 16),
    ...(workers === undefined ? {} : { workers }),
    ...(value('initialize') === undefined ? {} : { initialize: value('initialize') as string }),
    ...(value('body') === undefined ? {} : { body: value('body') as string }),
    progress: (line) => io.stderr(`${line}\n`),
  });
  const table = serveBenchTable(report);
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, Linux ${release()}, Node ${process.versions.node}`;
  io.stdout(`${machine}\n${table}`);
  const json = value('json');
  if (json !== undefined) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  const svg = value('svg');
  if (svg !== undefined) writeFileSync(svg, renderServeBenchSvg(report, machine));
  const md = value('md');
  if (md !== undefined) writeFileSync(md, `${machine}. Module: \`${basename(module)}\`, ${report.connections} connections, ${report.durationSeconds} s per server.\n\n${table}`);
  return 0;
}
