/**
 * Reading and validating a pool configuration. Every problem is reported at
 * once, in one INVALID_CONFIG error whose `issues` name each bad field and
 * whose message lists them as `path: problem — fix` lines, so a user fixes
 * the file in one pass instead of one error per run.
 */
import { readFileSync } from 'node:fs';
import { CowpoolError, type ConfigIssue } from '../errors.js';
import { toConfigIssues } from './config-issues.js';
import { findJsonSyntaxError } from './json-syntax-error.js';
import { PoolConfigSchema, type PoolConfig } from './pool-config-schema.js';

function invalid(source: string, issues: ConfigIssue[], cause?: unknown): CowpoolError {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => `  ${issue.path === '' ? '(top level)' : issue.path}: ${issue.message}`);
  return new CowpoolError('INVALID_CONFIG', `invalid cowpool configuration in ${source} (${count}):\n${lines.join('\n')}`, {
    issues,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Validate `value` (e.g. an object literal or parsed JSON) and fill in every
 * default. `source` names where it came from in the error message.
 * @throws CowpoolError INVALID_CONFIG listing every bad field.
 */
export function parseConfig(value: unknown, source = 'configuration object'): PoolConfig {
  const result = PoolConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw invalid(source, toConfigIssues(result.error.issues, PoolConfigSchema, value));
}

/**
 * Parse a configuration from JSON text. A syntax error is reported with its
 * line and column (`source:line:column`).
 * @throws CowpoolError INVALID_CONFIG.
 */
export function parseConfigJson(text: string, source = 'configuration text'): PoolConfig {
  // Editors on some systems save a byte-order mark; it is not JSON but means nothing.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    const where = findJsonSyntaxError(body);
    const message = where === undefined
      ? `not valid JSON (${e instanceof Error ? e.message : String(e)}) — fix the JSON syntax`
      : `JSON syntax error at line ${where.line}, column ${where.column} (${source}:${where.line}:${where.column}): ${where.message}`;
    throw invalid(source, [{ path: '', message }], e);
  }
  return parseConfig(value, source);
}

/**
 * Read and validate the JSON configuration file at `path`.
 * @throws CowpoolError INVALID_CONFIG when the file cannot be read, is not JSON, or has bad fields.
 */
export function loadConfig(path: string): PoolConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw invalid(path, [{ path: '', message: `cannot read the file (${reason}) — check the path and its permissions` }], e);
  }
  return parseConfigJson(text, path);
}
