import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { PoolConfigSchema, RawSlotPoolConfigSchema } from '../src/config/pool-config-schema.js';
import { ServeConfigSchema } from '../src/serve/serve-config-schema.js';

function committedSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../config/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** Every property schema in a JSON Schema, with its dotted path. */
function properties(schema: unknown, prefix = ''): [string, Record<string, unknown>][] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const own = Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>).flatMap(
    ([key, child]): [string, Record<string, unknown>][] => {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      return [[path, child], ...properties(child, path)];
    },
  );
  const branches = [...((node.oneOf ?? []) as unknown[]), ...((node.anyOf ?? []) as unknown[])];
  return [...own, ...branches.flatMap((branch) => properties(branch, prefix))];
}

describe.each([
  ['pool.schema.json', PoolConfigSchema],
  ['raw-slot-pool.schema.json', RawSlotPoolConfigSchema],
  ['serve.schema.json', ServeConfigSchema],
] as const)('config/%s', (name, schema) => {
  const committed = committedSchema(name);

  it('equals a fresh z.toJSONSchema of the zod schema (regenerate with npm run schema)', () => {
    expect(committed).toStrictEqual(z.toJSONSchema(schema, { io: 'input' }));
  });

  it('gives editors help text for every field', () => {
    const all = properties(committed);
    expect(all.length).toBeGreaterThan(12);
    for (const [path, schema] of all) {
      expect(typeof schema.description, `${path} has no description`).toBe('string');
    }
  });

  it('forbids unknown keys at every level, as the parser does', () => {
    expect(committed.additionalProperties).toBe(false);
    const objects = properties(committed).filter(([, s]) => s.type === 'object');
    for (const [path, schema] of objects) expect(schema.additionalProperties, path).toBe(false);
  });
});
