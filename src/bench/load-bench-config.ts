/**
 * Reading and validating a bench configuration. Like the pool configuration,
 * every problem is reported at once in one INVALID_CONFIG error whose
 * `issues` name each bad field, so a user fixes the file in one pass.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CowpoolError, ConfigIssue } from '../errors.js';
import { invalidConfig, parseJsonText, readConfigText } from '../config/config-file.js';
import { toConfigIssues } from '../config/config-issues.js';
import {
  BenchConfigSchema,
  BUNDLED_MODULES,
  QUICK_PRESET,
  type BenchConfig,
  type BenchConfigInput,
} from './bench-config-schema.js';

const WHAT = 'bench configuration';

function invalid(source: string, issues: ConfigIssue[]): CowpoolError {
  return invalidConfig(WHAT, source, issues);
}

/**
 * Validate `value` and fill in every default. `source` names where it came
 * from in the error message.
 * @throws CowpoolError INVALID_CONFIG listing every bad field.
 */
export function parseBenchConfig(value: unknown, source = 'bench configuration object'): BenchConfig {
  const result = BenchConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  // The pool's issue rewriting points at pool.schema.json for unknown forms; say which schema this is.
  const issues = toConfigIssues(result.error.issues, BenchConfigSchema, value).map((issue) => ({
    ...issue,
    message: issue.message.replace('pool.schema.json', 'the bench configuration (cowpool bench --help)'),
  }));
  throw invalid(source, issues);
}

/** A module reference as written in a file: bundled names stay, relative paths are resolved against `baseDir`. */
function resolveModuleRef(ref: string, baseDir: string): string {
  if ((BUNDLED_MODULES as readonly string[]).includes(ref) || isAbsolute(ref)) return ref;
  return resolve(baseDir, ref);
}

/** Reads the JSON value of a configuration file; a syntax error is reported with line and column. */
function readJsonFile(path: string): unknown {
  return parseJsonText(readConfigText(path, WHAT), WHAT, path);
}

export interface BenchConfigSources {
  /** Start from the `--quick` preset. */
  quick?: boolean;
  /** A JSON configuration file; its fields override the preset's. */
  file?: string;
  /** Module paths or bundled names from the command line; they replace the configured list. */
  modules?: readonly string[];
  /** Directory that relative command-line module paths are read from. Default: the working directory. */
  cwd?: string;
}

/**
 * The configuration a `cowpool bench` invocation asks for: defaults, then
 * the quick preset, then the file's top-level fields, then the modules named
 * on the command line.
 * @throws CowpoolError INVALID_CONFIG naming every bad field.
 */
export function resolveBenchConfig(sources: BenchConfigSources = {}): BenchConfig {
  const input: Record<string, unknown> = { ...(sources.quick === true ? QUICK_PRESET : {}) };
  let source = sources.quick === true ? '--quick' : 'the defaults';
  if (sources.file !== undefined) {
    const value = readJsonFile(sources.file);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(sources.file, [{ path: '', message: 'expected a JSON object such as {"timeMs": 500} — wrap the settings in { }' }]);
    }
    const fromFile = value as Record<string, unknown>;
    const baseDir = dirname(resolve(sources.file));
    // Resolve paths now: later they are read from wherever the bench runs.
    if (Array.isArray(fromFile.modules)) {
      fromFile.modules = fromFile.modules.map((m: unknown) => (typeof m === 'string' && m !== '' ? resolveModuleRef(m, baseDir) : m));
    }
    const threads = fromFile.threads;
    if (typeof threads === 'object' && threads !== null && typeof (threads as Record<string, unknown>).module === 'string') {
      const t = threads as Record<string, unknown>;
      if (t.module !== '') t.module = resolveModuleRef(t.module as string, baseDir);
    }
    Object.assign(input, fromFile);
    source = sources.file;
  }
  if (sources.modules !== undefined && sources.modules.length > 0) {
    const cwd = sources.cwd ?? process.cwd();
    input.modules = sources.modules.map((m) => resolveModuleRef(m, cwd));
  }
  return parseBenchConfig(input as BenchConfigInput, source);
}
