/**
 * Turns zod's issues into cowpool's `ConfigIssue`s: one per bad field, with a
 * dotted path and a message of the form `problem — fix`. Messages written in
 * the schema (cross-field checks, byte sizes) already have that form and pass
 * through; zod's generic ones are rewritten here so that a person reading the
 * error knows what to type instead.
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { closestName } from './closest-name.js';

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;
type PathSegment = PropertyKey;

/** `['limits', 'maxSlots']` → `limits.maxSlots`; the top level is the empty string. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** A value as it would appear in the config file, shortened for a one-line message. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const EXPECTED_WORDS: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

function expectedWords(expected: string): string {
  return EXPECTED_WORDS[expected] ?? expected;
}

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

// ---- finding which keys an object in the schema accepts -------------------

interface ZodDefView {
  type: string;
  in?: Schema;
  innerType?: Schema;
  shape?: Record<string, Schema>;
  options?: readonly Schema[];
  discriminator?: string;
  values?: readonly unknown[];
  element?: Schema;
}

function defOf(schema: Schema): ZodDefView {
  return schema._zod.def as unknown as ZodDefView;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The literal values a discriminated-union option accepts for `discriminator`. */
function discriminatorValues(option: Schema, discriminator: string): readonly unknown[] {
  const field = objectShape(option)?.[discriminator];
  return field === undefined ? [] : (defOf(field).values ?? []);
}

function objectShape(schema: Schema): Record<string, Schema> | undefined {
  const def = defOf(schema);
  return def.type === 'object' ? def.shape : undefined;
}

/**
 * Peel wrappers (defaults, pipes, optional) off `schema` and, for a
 * discriminated union, pick the option `value` selects, until an object
 * schema is reached. `siblings` collects the other options of such a union.
 */
interface Sibling {
  option: Schema;
  discriminator: string;
}

function objectSchemaFor(schema: Schema, value: unknown, siblings: Sibling[]): Schema | undefined {
  let current: Schema | undefined = schema;
  for (let guard = 0; current !== undefined && guard < 32; guard++) {
    const def = defOf(current);
    if (def.type === 'object') return current;
    if (def.type === 'pipe') current = def.in;
    else if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'union' && def.discriminator !== undefined && isRecord(value)) {
      const discriminator = def.discriminator;
      const options = def.options ?? [];
      const chosen = options.find((o) => discriminatorValues(o, discriminator).includes(value[discriminator]));
      for (const option of options) if (option !== chosen) siblings.push({ option, discriminator });
      current = chosen;
    } else return undefined;
  }
  return undefined;
}

interface KnownKeys {
  keys: string[];
  /** Keys that another option of a discriminated union accepts, with the discriminator that selects it. */
  elsewhere: Map<string, string>;
}

/** The element schema of an array schema under wrappers (defaults, pipes, optional, refinements). */
function arrayElement(schema: Schema): Schema | undefined {
  let current: Schema | undefined = schema;
  for (let guard = 0; current !== undefined && guard < 32; guard++) {
    const def = defOf(current);
    if (def.type === 'array') return def.element;
    if (def.type === 'pipe') current = def.in;
    else if (def.innerType !== undefined) current = def.innerType;
    else return undefined;
  }
  return undefined;
}

function knownKeysAt(root: Schema, input: unknown, path: readonly PathSegment[]): KnownKeys | undefined {
  let schema: Schema | undefined = root;
  let value = input;
  for (const segment of path) {
    if (typeof segment === 'number') {
      schema = schema === undefined ? undefined : arrayElement(schema);
      value = Array.isArray(value) ? value[segment] : undefined;
      continue;
    }
    const object: Schema | undefined = schema === undefined ? undefined : objectSchemaFor(schema, value, []);
    schema = object === undefined ? undefined : objectShape(object)?.[String(segment)];
    value = isRecord(value) ? value[String(segment)] : undefined;
  }
  if (schema === undefined) return undefined;
  const siblings: Sibling[] = [];
  const object = objectSchemaFor(schema, value, siblings);
  const shape = object === undefined ? undefined : objectShape(object);
  if (shape === undefined) return undefined;
  const elsewhere = new Map<string, string>();
  for (const { option, discriminator } of siblings) {
    const selects = `${discriminator} ${quoteAll(discriminatorValues(option, discriminator))}`;
    for (const key of Object.keys(objectShape(option) ?? {})) if (!(key in shape)) elsewhere.set(key, selects);
  }
  return { keys: Object.keys(shape), elsewhere };
}

// ---- one zod issue → one or more ConfigIssues ------------------------------

/**
 * Keys (dotted paths) that are valid in a sibling kind of configuration, with
 * the sentence that says where they belong: `guardBytes` given to the
 * instance pool, `strategy` given to the raw slot pool.
 */
export type KeysElsewhere = Readonly<Record<string, string>>;

function unknownKeyMessage(key: string, known: KnownKeys | undefined, elsewhere: string | undefined): string {
  if (elsewhere !== undefined) return `not a setting of this pool: ${elsewhere} — remove it`;
  if (known === undefined) return 'unknown key — remove it';
  const selects = known.elsewhere.get(key);
  if (selects !== undefined) return `unknown key here (${key} belongs with ${selects}) — remove it, or set ${selects}`;
  const guess = closestName(key, known.keys);
  if (guess !== undefined) return `unknown key — did you mean ${guess}?`;
  return `unknown key — remove it (known keys here: ${known.keys.join(', ')})`;
}

function rewrite(issue: Issue, root: Schema, input: unknown, elsewhere: KeysElsewhere): ConfigIssue[] {
  const path = formatPath(issue.path);
  const at = (message: string): ConfigIssue[] => [{ path, message }];
  // Messages composed in the schema already say what to do.
  if (issue.code === 'custom' || issue.message.includes(' — ')) return at(issue.message);
  const got = shown(issue.input);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(root, input, issue.path);
      return issue.keys.map((key) => {
        const keyPath = formatPath([...issue.path, key]);
        return { path: keyPath, message: unknownKeyMessage(key, known, elsewhere[keyPath]) };
      });
    }
    case 'invalid_type': {
      const want = expectedWords(issue.expected);
      if (issue.input === undefined) return at(`missing — set it to ${want}`);
      return at(`expected ${want}, got ${got} — write ${want} here`);
    }
    case 'too_small': {
      const bound = `${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
      return at(`must be ${bound}, got ${got} — use a value of ${bound}`);
    }
    case 'too_big': {
      const bound = `${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
      return at(`must be ${bound}, got ${got} — use a value of ${bound}`);
    }
    case 'not_multiple_of':
      return at(`must be a multiple of ${String(issue.divisor)}, got ${got} — round it to a multiple of ${String(issue.divisor)}`);
    case 'invalid_value': {
      const guess = typeof issue.input === 'string'
        ? closestName(issue.input, issue.values.filter((v): v is string => typeof v === 'string'))
        : undefined;
      const fix = guess === undefined ? 'use one of them' : `did you mean ${JSON.stringify(guess)}?`;
      return at(`must be one of ${quoteAll(issue.values)}, got ${got} — ${fix}`);
    }
    case 'invalid_union': {
      const discriminated = issue as Issue & { discriminator?: string; options?: readonly unknown[] };
      if (discriminated.discriminator !== undefined && discriminated.options !== undefined) {
        const selector = isRecord(issue.input) ? issue.input[discriminated.discriminator] : undefined;
        const choices = quoteAll(discriminated.options);
        if (selector === undefined) return at(`missing — set it to one of ${choices}`);
        const guess = typeof selector === 'string'
          ? closestName(selector, discriminated.options.filter((v): v is string => typeof v === 'string'))
          : undefined;
        const fix = guess === undefined ? 'use one of them' : `did you mean ${JSON.stringify(guess)}?`;
        return at(`must be one of ${choices}, got ${shown(selector)} — ${fix}`);
      }
      // Every branch rejected the value's type: list what the branches take.
      const wanted = issue.errors
        .flat()
        .filter((e) => e.code === 'invalid_type')
        .map((e) => expectedWords((e as Issue & { expected: string }).expected));
      if (wanted.length === issue.errors.length) {
        return at(`expected ${wanted.join(' or ')}, got ${got} — write ${wanted.join(' or ')} here`);
      }
      return at(`${got} matches none of the accepted forms — see this field's description in pool.schema.json`);
    }
    default:
      return at(`${issue.message} (got ${got}) — see this field's description in pool.schema.json`);
  }
}

/**
 * Every problem zod found, one entry per bad field (an object with two
 * unknown keys yields two entries), in the order zod reported them.
 */
export function toConfigIssues(
  issues: readonly Issue[],
  root: Schema,
  input: unknown,
  elsewhere: KeysElsewhere = {},
): ConfigIssue[] {
  return issues.flatMap((issue) => rewrite(issue, root, input, elsewhere));
}
