/**
 * Reading and validating a pool configuration. Every problem is reported at
 * once, in one INVALID_CONFIG error whose `issues` name each bad field and
 * whose message lists them as `path: problem — fix` lines, so a user fixes
 * the file in one pass instead of one error per run.
 */
import { invalidConfig, parseJsonText, readConfigText } from './config-file.js';
import { toConfigIssues, type KeysElsewhere } from './config-issues.js';
import {
  PoolConfigSchema,
  RawSlotPoolConfigSchema,
  type PoolConfig,
  type RawSlotPoolConfig,
} from './pool-config-schema.js';

const WHAT = 'cowpool configuration';
const RAW_WHAT = 'cowpool raw slot pool configuration';

/** Raw-slot-only settings given to the instance pool. */
const RAW_SLOT_ONLY: KeysElsewhere = {
  'limits.guardBytes': 'guard regions belong to the raw slot pool (RawSlotPool); V8 reserves the guards of an '
    + 'instance pool\'s memories itself',
  lazyTables: 'lazyTables belongs to the raw slot pool (RawSlotPool.createTable); V8 builds the tables of an '
    + 'instance pool\'s instances',
};

/** Instance-pool-only settings given to the raw slot pool. */
const INSTANCE_ONLY: KeysElsewhere = {
  strategy: 'strategy belongs to the instance pool (createPool); a raw slot pool always maps images copy-on-write',
};

/**
 * Validate `value` (e.g. an object literal or parsed JSON) and fill in every
 * default. `source` names where it came from in the error message.
 * @throws CowpoolError INVALID_CONFIG listing every bad field.
 */
export function parseConfig(value: unknown, source = 'configuration object'): PoolConfig {
  const result = PoolConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw invalidConfig(WHAT, source, toConfigIssues(result.error.issues, PoolConfigSchema, value, RAW_SLOT_ONLY));
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

/**
 * Validate a raw slot pool configuration (`RawSlotPool`): the instance pool's
 * fields without `strategy`, plus `limits.guardBytes` and `lazyTables`.
 * @throws CowpoolError INVALID_CONFIG listing every bad field.
 */
export function parseRawSlotPoolConfig(value: unknown, source = 'configuration object'): RawSlotPoolConfig {
  const result = RawSlotPoolConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw invalidConfig(RAW_WHAT, source, toConfigIssues(result.error.issues, RawSlotPoolConfigSchema, value, INSTANCE_ONLY));
}

/** Read and validate a raw slot pool configuration file. */
export function loadRawSlotPoolConfig(path: string): RawSlotPoolConfig {
  return parseRawSlotPoolConfig(parseJsonText(readConfigText(path, RAW_WHAT), RAW_WHAT, path), path);
}
