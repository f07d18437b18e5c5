/**
 * The `cowpool serve` configuration: which module answers which path, how
 * many workers run requests, and the caps that keep one request from hurting
 * the others. One zod schema holds names, bounds, defaults and help text;
 * `config/serve.schema.json` is its input side for editors (`npm run schema`).
 *
 * Every object is strict: a misspelt key is an error, not a silently kept
 * default.
 */
import { z } from 'zod';
import { byteSize, GiB, KiB } from '../config/byte-size.js';
import { PoolConfigSchema } from '../config/pool-config-schema.js';

const WASM_PAGE = 64 * KiB;

/**
 * A route's path: an exact path (`/hello`) or a prefix ending in `/...`
 * (`/api/...` matches `/api` and everything below it; the rest of the path is
 * the request's PATH_INFO), as in WAGI.
 */
export const ROUTE_PATH_PATTERN = /^\/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+\/?)*(?:\.\.\.)?$/;

const deadlineMs = z
  .number()
  .int()
  .min(1)
  .max(3_600_000)
  .describe('Milliseconds a request may run before its worker is stopped and the client gets 504. 1 to 3600000.');

export const RouteSchema = z
  .strictObject({
    path: z
      .string()
      .regex(ROUTE_PATH_PATTERN, {
        error: (iss) => `${JSON.stringify(iss.input)} is not a route path — write an absolute path such as "/hello", `
          + 'or a prefix ending in "/..." such as "/api/..."',
      })
      .describe('The request path this route answers: exact ("/hello") or a prefix ending in "/..." ("/api/...").'),
    module: z
      .string()
      .min(1, { error: 'an empty module path — write the path of a .wasm file (relative to this file)' })
      .describe('The WASI command module (.wasm) that answers; a relative path is read from the directory of this file.'),
    args: z
      .array(z.string())
      .default([])
      .describe('Arguments after argv[0] (the route path) passed to the module.'),
    env: z
      .record(z.string().regex(/^[^=\0]+$/, { error: 'an environment name must be non-empty without "=" — rename it' }), z.string())
      .default({})
      .describe('Extra environment variables; the CGI variables of the request are set on top of them.'),
    deadlineMs: deadlineMs.optional(),
    maxMemoryBytes: byteSize({ min: WASM_PAGE, max: 4 * GiB, multipleOf: WASM_PAGE })
      .optional()
      .describe(
        'Cap on the module\'s memory per request (its maximum is clamped to this); growing past it fails inside '
          + 'the module as a failed memory.grow. A multiple of 64KiB.',
      ),
    initialize: z
      .string()
      .min(1)
      .optional()
      .describe('An export (e.g. "_initialize") run once per worker before the first request; every request then '
        + 'starts from the state it left (a snapshot).'),
  })
  .describe('One route: a path, the module that answers it, and its per-request settings.');

export const ServeConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of the JSON Schema for this file, for editors; cowpool ignores it.'),
    host: z.string().min(1).default('127.0.0.1').describe('Address to listen on.'),
    port: z.number().int().min(0).max(65_535).default(8080).describe('TCP port; 0 picks a free one.'),
    workers: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe('Worker threads running requests, one request each at a time. Default: one per core.'),
    queue: z
      .strictObject({
        maxWaiting: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(256)
          .describe('Requests that may wait for a worker; one more gets 503 with Retry-After.'),
        retryAfterSeconds: z.number().int().min(1).max(3600).default(1).describe('The Retry-After a 503 carries.'),
      })
      .prefault({})
      .describe('The bounded queue in front of the workers.'),
    limits: z
      .strictObject({
        deadlineMs: deadlineMs.default(1000),
        maxBodyBytes: byteSize({ min: 0, max: 1 * GiB })
          .prefault('1MiB')
          .describe('Largest request body; a larger one gets 413 before any module runs.'),
        maxOutputBytes: byteSize({ min: 1 * KiB, max: 1 * GiB })
          .prefault('4MiB')
          .describe('Most bytes a request may write to stdout (and, separately, stderr); more is cut and the request fails with 502.'),
        graceMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(10_000)
          .describe('On SIGTERM/SIGINT, milliseconds to let in-flight requests finish before exiting.'),
      })
      .prefault({})
      .describe('Per-request caps; a route may lower deadlineMs and cap memory.'),
    log: z
      .strictObject({
        format: z.enum(['text', 'json']).default('text').describe('One line per request: "text" or "json".'),
      })
      .prefault({})
      .describe('Request logging (stderr).'),
    pool: PoolConfigSchema.optional().describe('The instance pool of each worker (see config/pool.schema.json).'),
    routes: z
      .array(RouteSchema)
      .min(1, { error: 'no routes — add at least one {"path": "/...", "module": "handler.wasm"}' })
      .superRefine((routes, ctx) => {
        const seen = new Set<string>();
        routes.forEach((route, index) => {
          if (seen.has(route.path)) {
            ctx.addIssue({ code: 'custom', path: [index, 'path'], input: route.path, message: `${JSON.stringify(route.path)} is listed twice — remove or rename one` });
          }
          seen.add(route.path);
        });
      })
      .describe('Which module answers which path; the most specific match wins.'),
  })
  .transform(({ $schema: _editorsOnly, ...config }) => config)
  .describe('cowpool serve configuration.');

export type ServeConfigInput = z.input<typeof ServeConfigSchema>;
export type ServeConfig = z.output<typeof ServeConfigSchema>;
export type RouteConfig = ServeConfig['routes'][number];

export function serveConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ServeConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
