/**
 * What the pool and bench configurations share: one INVALID_CONFIG error
 * listing every problem, and reading a JSON file with syntax errors reported
 * at their line and column.
 */
import { readFileSync } from 'node:fs';
import { CowpoolError, type ConfigIssue } from '../errors.js';
import { findJsonSyntaxError } from './json-syntax-error.js';

/** One error for every problem found in `source`; `what` names the kind of configuration. */
export function invalidConfig(what: string, source: string, issues: ConfigIssue[], cause?: unknown): CowpoolError {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => `  ${issue.path === '' ? '(top level)' : issue.path}: ${issue.message}`);
  return new CowpoolError('INVALID_CONFIG', `invalid ${what} in ${source} (${count}):\n${lines.join('\n')}`, {
    issues,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Parses JSON text; a syntax error becomes INVALID_CONFIG with `source:line:column`. */
export function parseJsonText(text: string, what: string, source: string): unknown {
  // Editors on some systems save a byte-order mark; it is not JSON but means nothing.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const where = findJsonSyntaxError(body);
    const message = where === undefined
      ? `not valid JSON (${e instanceof Error ? e.message : String(e)}) — fix the JSON syntax`
      : `JSON syntax error at line ${where.line}, column ${where.column} (${source}:${where.line}:${where.column}): ${where.message}`;
    throw invalidConfig(what, source, [{ path: '', message }], e);
  }
}

/** Reads a file's text; a missing or unreadable file becomes INVALID_CONFIG naming the errno. */
export function readConfigText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw invalidConfig(what, path, [{ path: '', message: `cannot read the file (${reason}) — check the path and its permissions` }], e);
  }
}
