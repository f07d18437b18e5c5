/**
 * Reading and validating a pool configuration. Every problem is reported at
 * once, in one INVALID_CONFIG error whose `issues` name each bad field and
 * whose message lists them as `path: problem — fix` lines, so a user fixes
 * the file in one pass instead of one error per run.
 */
import { invalidConfig, parseJsonText, readConfigText } from './config-file.js';
import { toConfigIssues } from './config-issues.js';
import { PoolConfigSchema, type PoolConfig } from './pool-config-schema.js';

const WHAT = 'cowpool configuration';

/**
 * Validate `value` (e.g. an object literal or parsed JSON) and fill in every
 * default. `source` names where it came from in the error message.
 * @throws CowpoolError INVALID_CONFIG listing every bad field.
 */
export function parseConfig(value: unknown, source = 'configuration object'): PoolConfig {
  const result = PoolConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw invalidConfig(WHAT, source, toConfigIssues(result.error.issues, PoolConfigSchema, value));
}

/**
 * Parse a configuration from JSON text. A syntax error is reported with its
 * line and column (`source:line:column`).
 * @throws CowpoolError INVALID_CONFIG.
 */
export function parseConfigJson(text: string, source = 'configuration text'): PoolConfig {
  return parseConfig(parseJsonText(text, WHAT, source), source);
}

/**
 * Read and validate the JSON configuration file at `path`.
 * @throws CowpoolError INVALID_CONFIG when the file cannot be read, is not JSON, or has bad fields.
 */
export function loadConfig(path: string): PoolConfig {
  return parseConfigJson(readConfigText(path, WHAT), path);
}
