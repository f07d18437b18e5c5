import { describe, expect, it } from 'vitest';
import { parseConfig, parseRawSlotPoolConfig } from '../src/config/load-config.js';
import { createPool, RawSlotPool, type CowpoolError } from '../src/index.js';

function failure(f: () => unknown): CowpoolError {
  try {
    f();
  } catch (e) {
    return e as CowpoolError;
  }
  throw new Error('expected an INVALID_CONFIG error');
}

function issueAt(error: CowpoolError, path: string): string {
  const issue = error.issues?.find((i) => i.path === path);
  expect(issue, `no issue at ${path}: ${error.message}`).toBeDefined();
  return issue?.message ?? '';
}

describe('each pool accepts only its own settings', () => {
  it('createPool refuses raw-slot settings and says where they belong', () => {
    const error = failure(() => createPool({ limits: { guardBytes: '2MiB' }, lazyTables: false } as never));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(issueAt(error, 'limits.guardBytes')).toMatch(/raw slot pool .* — remove it/);
    expect(issueAt(error, 'lazyTables')).toMatch(/raw slot pool .* — remove it/);
  });

  it('the raw slot pool refuses strategy and says where it belongs', () => {
    const error = failure(() => new RawSlotPool({ strategy: 'copy' } as never));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(issueAt(error, 'strategy')).toMatch(/instance pool \(createPool\).* — remove it/);
  });

  it('the raw slot pool takes guardBytes and lazyTables', () => {
    const config = parseRawSlotPoolConfig({ limits: { guardBytes: '64KiB' }, lazyTables: false });
    expect(config.limits.guardBytes).toBe(64 * 1024);
    expect(config.lazyTables).toBe(false);
  });
});

describe('keepResidentBytes is checked only where it applies', () => {
  it('track-writes with a small maxResidentBytes does not fail on a keepResidentBytes nobody wrote', () => {
    const reset = parseConfig({ reset: { mode: 'track-writes', maxResidentBytes: '512KiB' } }).reset;
    expect(reset.maxResidentBytes).toBe(512 * 1024);
    // The default is capped by the cap it must respect.
    expect(reset.keepResidentBytes).toBe(512 * 1024);
  });

  it('the default stays 1MiB when maxResidentBytes allows it', () => {
    expect(parseConfig({}).reset.keepResidentBytes).toBe(1024 * 1024);
    expect(parseConfig({ reset: { maxResidentBytes: '2MiB' } }).reset.keepResidentBytes).toBe(1024 * 1024);
  });

  for (const mode of ['keep-resident', 'auto'] as const) {
    it(`${mode}: a written keepResidentBytes above maxResidentBytes is an error naming both`, () => {
      const error = failure(() => parseConfig({ reset: { mode, keepResidentBytes: '2MiB', maxResidentBytes: '1MiB' } }));
      const message = issueAt(error, 'reset.keepResidentBytes');
      expect(message).toContain('reset.maxResidentBytes');
      expect(message).toContain(mode);
      expect(error.issues).toHaveLength(1);
    });
  }

  for (const mode of ['madvise', 'restore-dirty', 'track-writes'] as const) {
    it(`${mode}: keepResidentBytes is not used, so it is not checked against maxResidentBytes`, () => {
      expect(() => parseConfig({ reset: { mode, keepResidentBytes: '2MiB', maxResidentBytes: '1MiB' } })).not.toThrow();
    });
  }

  it('a per-module override is checked against the merged settings', async () => {
    const pool = createPool({ reset: { mode: 'madvise', keepResidentBytes: '2MiB', maxResidentBytes: '1MiB' } });
    try {
      const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1]); // (memory 1)
      await expect(pool.prepare(bytes, { reset: { mode: 'keep-resident' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
      await expect(pool.prepare(bytes, { reset: { mode: 'restore-dirty' } })).resolves.toBeDefined();
    } finally {
      pool.close();
    }
  });
});
