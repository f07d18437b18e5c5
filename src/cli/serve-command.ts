/**
 * `cowpool serve`: per-request WebAssembly over HTTP. Prints
 * `listening on http://HOST:PORT` on stdout once every worker is ready;
 * SIGTERM or SIGINT drains in-flight requests within limits.graceMs and
 * exits 0.
 */
import { availableParallelism } from 'node:os';
import { CowpoolError, isCowpoolError } from '../errors.js';
import { CowpoolServer } from '../serve/http-server.js';
import { resolveServeConfig } from '../serve/load-serve-config.js';
import { flagHelp, parseArgs, type FlagSpec } from './cli-args.js';
import type { CliIo } from './cli-io.js';

export const SERVE_FLAGS: Record<string, FlagSpec> = {
  port: { value: true, placeholder: 'N', description: 'TCP port (default 8080; 0 picks a free one)' },
  host: { value: true, placeholder: 'ADDR', description: 'address to listen on (default 127.0.0.1)' },
  workers: { value: true, placeholder: 'N', description: 'worker threads, one request each at a time (default: one per core)' },
  'deadline-ms': { value: true, placeholder: 'MS', description: 'per-request deadline; past it the worker is stopped and the client gets 504 (default 1000)' },
  initialize: { value: true, placeholder: 'EXPORT', description: 'with a module: run this export once per worker (after _initialize) and start every request from that state (a snapshot)' },
  strategy: { value: true, placeholder: 'NAME', description: 'the workers\' pool strategy: cow (default), reuse (keeps one instance per slot and rewinds it; only for modules it can rewind exactly, else a new instance each time), copy or fresh' },
  config: { value: true, placeholder: 'FILE', description: 'serve configuration (routes, limits, pool); see config/serve.schema.json' },
  help: { value: false, description: 'show this help' },
};

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new CowpoolError('INVALID_ARGUMENT', `serve: --${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export interface ServeHooks {
  /** Resolves when the process should stop (default: the first SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<string>;
}

function firstSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export async function serveCommand(argv: readonly string[], io: CliIo, hooks: ServeHooks = {}): Promise<number> {
  const args = parseArgs(argv, SERVE_FLAGS, 'serve');
  if (args.flags.has('help')) {
    io.stdout(`Usage: cowpool serve [module.wasm] [options]\n\nRuns a WASI module per HTTP request (WAGI: body on stdin, CGI variables in the environment,\nCGI response on stdout), a fresh pooled instance each time.\n\n${flagHelp(SERVE_FLAGS)}\n`);
    return 0;
  }
  if (args.positionals.length > 1) throw new CowpoolError('INVALID_ARGUMENT', 'serve: give at most one module; route several with --config');
  const flag = (name: string): string | undefined => args.flags.get(name)?.[0];
  const port = integer('port', flag('port'));
  const workers = integer('workers', flag('workers'));
  const deadlineMs = integer('deadline-ms', flag('deadline-ms'));
  const config = resolveServeConfig({
    ...(flag('config') === undefined ? {} : { file: flag('config') as string }),
    ...(args.positionals[0] === undefined ? {} : { module: args.positionals[0] }),
    ...(flag('initialize') === undefined ? {} : { initialize: flag('initialize') as string }),
    ...(flag('host') === undefined ? {} : { host: flag('host') as string }),
    ...(port === undefined ? {} : { port }),
    ...(workers === undefined ? {} : { workers }),
    ...(deadlineMs === undefined ? {} : { deadlineMs }),
    ...(flag('strategy') === undefined ? {} : { strategy: flag('strategy') as string }),
  });
  const server = new CowpoolServer(config, { defaultWorkers: availableParallelism(), log: (line) => io.stderr(`${line}\n`) });
  let url: string;
  try {
    url = await server.listen();
  } catch (e) {
    await server.close(0);
    if (isCowpoolError(e)) throw e;
    // A worker could not prepare its routes (a module V8 refuses, an initializer that fails).
    throw new CowpoolError('INSTANTIATE_FAILED', `serve: the workers could not start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  io.stdout(`listening on ${url}\n`);
  const signal = await (hooks.stopSignal ?? firstSignal());
  io.stderr(`${signal}: draining (up to ${config.limits.graceMs} ms)\n`);
  await server.close();
  io.stderr('stopped\n');
  return 0;
}
