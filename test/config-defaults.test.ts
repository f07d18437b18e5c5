import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadRawSlotPoolConfig, parseConfig, parseRawSlotPoolConfig } from '../src/config/load-config.js';

const poolJsonPath = fileURLToPath(new URL('../config/pool.json', import.meta.url));
const poolJson = JSON.parse(readFileSync(poolJsonPath, 'utf8')) as Record<string, unknown>;
const rawJsonPath = fileURLToPath(new URL('../config/raw-slot-pool.json', import.meta.url));
const rawJson = JSON.parse(readFileSync(rawJsonPath, 'utf8')) as Record<string, unknown>;

/** Dotted paths of every leaf of a plain JSON object. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
}

function withoutPath(value: Record<string, unknown>, path: string): Record<string, unknown> {
  const copy = structuredClone(value);
  const parts = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
  delete at[parts[parts.length - 1] ?? ''];
  return copy;
}

describe('configuration defaults', () => {
  it('{} resolves to the documented defaults, byte sizes in bytes', () => {
    expect(parseConfig({})).toStrictEqual({
      strategy: 'cow',
      growth: 'auto',
      limits: {
        maxSlots: 64,
        maxSlotsPerImage: 64,
        maxMemoryBytesPerSlot: 4 * 1024 ** 3,
        maxUnusedWarmSlots: 16,
        maxImageBytes: 256 * 1024 ** 2,
      },
      reset: { mode: 'auto', keepResidentBytes: 1024 ** 2, maxResidentBytes: 16 * 1024 ** 2, trimEvery: 1000 },
      exhausted: { policy: 'throw' },
    });
  });

  it('config/pool.json parses to exactly the schema defaults', () => {
    expect(loadConfig(poolJsonPath)).toStrictEqual(parseConfig({}));
  });

  it('config/pool.json spells out every field of the resolved configuration', () => {
    const written = new Set(leafPaths(poolJson));
    for (const path of leafPaths(parseConfig({}))) expect(written, `pool.json lacks ${path}`).toContain(path);
    expect(poolJson.$schema).toBe('./pool.schema.json');
  });

  it('leaving out any set of pool.json fields changes nothing', () => {
    const defaults = parseConfig({});
    // exhausted.policy selects the variant, so it is required whenever exhausted is written.
    const paths = [...leafPaths(poolJson).filter((p) => p !== 'exhausted.policy'), 'exhausted'];
    fc.assert(
      fc.property(fc.subarray(paths), (dropped) => {
        const partial = dropped.reduce(withoutPath, poolJson);
        expect(parseConfig(partial)).toStrictEqual(defaults);
      }),
    );
  });

  it('a wait policy gets its default timeout', () => {
    expect(parseConfig({ exhausted: { policy: 'wait' } }).exhausted).toStrictEqual({ policy: 'wait', timeoutMs: 1000 });
  });

  it('$schema is accepted and not carried into the resolved configuration', () => {
    expect(parseConfig({ $schema: 'https://example.invalid/pool.schema.json' })).toStrictEqual(parseConfig({}));
  });
});

describe('raw slot pool configuration defaults', () => {
  it('{} resolves to the instance pool\'s defaults less strategy, plus guards and lazy tables', () => {
    const { strategy: _strategy, growth: _growth, ...shared } = parseConfig({});
    expect(parseRawSlotPoolConfig({})).toStrictEqual({
      ...shared,
      limits: { ...shared.limits, guardBytes: 2 * 1024 ** 2 },
      lazyTables: true,
    });
  });

  it('config/raw-slot-pool.json parses to exactly the schema defaults and spells out every field', () => {
    expect(loadRawSlotPoolConfig(rawJsonPath)).toStrictEqual(parseRawSlotPoolConfig({}));
    const written = new Set(leafPaths(rawJson));
    for (const path of leafPaths(parseRawSlotPoolConfig({}))) expect(written, `raw-slot-pool.json lacks ${path}`).toContain(path);
    expect(rawJson.$schema).toBe('./raw-slot-pool.schema.json');
  });
});
