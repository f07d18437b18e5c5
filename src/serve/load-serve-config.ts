/**
 * Reading a `cowpool serve` configuration: the file (if any), then the
 * command line on top. Module paths are resolved against the directory of
 * the file that names them, so a config works from any working directory.
 * Every problem is reported at once, naming the field and the fix.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { invalidConfig, parseJsonText, readConfigText } from '../config/config-file.js';
import { toConfigIssues } from '../config/config-issues.js';
import { ServeConfigSchema, type ServeConfig } from './serve-config-schema.js';

const WHAT = 'serve configuration';

export interface ServeSources {
  /** A JSON configuration file. */
  readonly file?: string;
  /** A module from the command line: served at "/..." (every path), replacing the file's routes. */
  readonly module?: string;
  /** With `module`: an export run once per worker, whose state every request starts from (a snapshot). */
  readonly initialize?: string;
  readonly host?: string;
  readonly port?: number;
  readonly workers?: number;
  readonly deadlineMs?: number;
  /** The workers' pool strategy (`pool.strategy`), over the file's. */
  readonly strategy?: string;
  /** Directory command-line paths are read from. Default: the working directory. */
  readonly cwd?: string;
}

/** Validates `value` and fills every default. @throws CowpoolError INVALID_CONFIG naming every bad field. */
export function parseServeConfig(value: unknown, source = 'serve configuration object'): ServeConfig {
  const result = ServeConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issues = toConfigIssues(result.error.issues, ServeConfigSchema, value).map((issue) => ({
    ...issue,
    message: issue.message.replace('pool.schema.json', 'serve.schema.json'),
  }));
  throw invalidConfig(WHAT, source, issues);
}

export function resolveServeConfig(sources: ServeSources): ServeConfig {
  const cwd = sources.cwd ?? process.cwd();
  let input: Record<string, unknown> = {};
  let source = 'the command line';
  if (sources.file !== undefined) {
    const value = parseJsonText(readConfigText(sources.file, WHAT), WHAT, sources.file);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalidConfig(WHAT, sources.file, [{ path: '', message: 'expected a JSON object such as {"routes": [...]} — wrap the settings in { }' }]);
    }
    input = { ...(value as Record<string, unknown>) };
    source = sources.file;
    const baseDir = dirname(resolve(cwd, sources.file));
    if (Array.isArray(input.routes)) {
      input.routes = input.routes.map((r: unknown) => {
        if (typeof r !== 'object' || r === null) return r;
        const route = { ...(r as Record<string, unknown>) };
        if (typeof route.module === 'string' && route.module !== '' && !isAbsolute(route.module)) route.module = resolve(baseDir, route.module);
        return route;
      });
    }
  }
  if (sources.module !== undefined) {
    input.routes = [{ path: '/...', module: resolve(cwd, sources.module), ...(sources.initialize === undefined ? {} : { initialize: sources.initialize }) }];
  } else if (sources.initialize !== undefined) {
    throw invalidConfig(WHAT, source, [{ path: 'routes', message: '--initialize applies to a module given on the command line — set "initialize" on a route in the file instead' }]);
  }
  if (sources.host !== undefined) input.host = sources.host;
  if (sources.port !== undefined) input.port = sources.port;
  if (sources.workers !== undefined) input.workers = sources.workers;
  if (sources.deadlineMs !== undefined) {
    input.limits = { ...(typeof input.limits === 'object' && input.limits !== null ? input.limits : {}), deadlineMs: sources.deadlineMs };
  }
  if (sources.strategy !== undefined) {
    input.pool = { ...(typeof input.pool === 'object' && input.pool !== null ? input.pool : {}), strategy: sources.strategy };
  }
  if (input.routes === undefined) {
    throw invalidConfig(WHAT, source, [{ path: 'routes', message: 'no module to serve — pass a module (cowpool serve handler.wasm) or --config with "routes"' }]);
  }
  const config = parseServeConfig(input, source);
  // Every module must be there before any worker starts: one message naming each missing file.
  const missing = config.routes.flatMap((route, i) => {
    try {
      if (statSync(route.module).isFile()) return [];
      return [{ path: `routes[${i}].module`, message: `${route.module} is not a file — give the path of a .wasm file (relative paths are read from the configuration file's directory)` }];
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      return [{ path: `routes[${i}].module`, message: `${route.module}: ${code} — give the path of a .wasm file (relative paths are read from the configuration file's directory)` }];
    }
  });
  if (missing.length > 0) throw invalidConfig(WHAT, source, missing);
  return config;
}
