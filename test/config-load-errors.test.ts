import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, parseConfigJson, parseRawSlotPoolConfig } from '../src/config/load-config.js';
import { CowpoolError } from '../src/errors.js';

function failure(run: () => unknown): CowpoolError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(CowpoolError);
    return e as CowpoolError;
  }
  throw new Error('expected the configuration to be rejected');
}

function issueAt(error: CowpoolError, path: string): string {
  const found = error.issues?.find((issue) => issue.path === path);
  expect(found, `no issue for ${path} in:\n${error.message}`).toBeDefined();
  return found?.message ?? '';
}

const dir = mkdtempSync(join(tmpdir(), 'cowpool-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseConfig reports every bad field at once', () => {
  it('names each bad field in one INVALID_CONFIG error, with problem and fix', () => {
    const error = failure(() =>
      parseConfig({
        strategy: 'banana',
        limits: { maxSlots: -1, maxSlot: 3, guardBytes: '2MB', maxMemoryBytesPerSlot: 100_000 },
        reset: { trimEvery: 1.5 },
        exhausted: { policy: 'wait', timeoutMs: -5 },
        lazyTables: 'yes',
      }),
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues?.map((i) => i.path).sort()).toEqual([
      'exhausted.timeoutMs',
      'lazyTables',
      'limits.guardBytes',
      'limits.maxMemoryBytesPerSlot',
      'limits.maxSlot',
      'limits.maxSlots',
      'reset.trimEvery',
      'strategy',
    ]);
    expect(error.message).toContain('(8 problems)');
    for (const issue of error.issues ?? []) {
      // Each line of the message is `path: problem — fix`.
      expect(error.message).toContain(`${issue.path}: ${issue.message}`);
      expect(issue.message).toMatch(/\S — \S/);
    }
    expect(issueAt(error, 'limits.maxSlots')).toMatch(/at least 1, got -1/);
    expect(issueAt(error, 'limits.maxMemoryBytesPerSlot')).toMatch(/multiple of 64KiB/);
  });

  it('checks maxSlotsPerImage <= maxSlots and names both fields, alongside other problems', () => {
    const error = failure(() => parseConfig({ strategy: 'nope', limits: { maxSlots: 8, maxSlotsPerImage: 70 } }));
    expect(error.issues?.map((i) => i.path).sort()).toEqual(['limits.maxSlotsPerImage', 'strategy']);
    const message = issueAt(error, 'limits.maxSlotsPerImage');
    expect(message).toContain('limits.maxSlots');
    expect(message).toContain('70');
    expect(message).toContain('8');
  });

  it('reports a bad maxSlots once, not again as a conflict with maxSlotsPerImage', () => {
    const error = failure(() => parseConfig({ limits: { maxSlots: 0, maxSlotsPerImage: 4 } }));
    expect(error.issues?.map((i) => i.path)).toEqual(['limits.maxSlots']);
  });

  it('accepts maxSlotsPerImage equal to maxSlots and defaults it to maxSlots', () => {
    expect(parseConfig({ limits: { maxSlots: 8, maxSlotsPerImage: 8 } }).limits.maxSlotsPerImage).toBe(8);
    expect(parseConfig({ limits: { maxSlots: 8 } }).limits.maxSlotsPerImage).toBe(8);
  });

  it('names an unknown key and suggests the closest known one', () => {
    const error = failure(() => parseConfig({ limits: { maxSlot: 4 }, stratgy: 'cow', bogusField: 1 }));
    expect(issueAt(error, 'limits.maxSlot')).toContain('did you mean maxSlots?');
    expect(issueAt(error, 'stratgy')).toContain('did you mean strategy?');
    // Nothing is close to bogusField: list what is allowed instead of guessing.
    expect(issueAt(error, 'bogusField')).toMatch(/known keys here: .*strategy.*exhausted/);
  });

  it('says which policy a key belongs to when it is used with the other one', () => {
    const error = failure(() => parseConfig({ exhausted: { policy: 'throw', timeoutMs: 10 } }));
    expect(issueAt(error, 'exhausted.timeoutMs')).toContain('policy "wait"');
  });

  it('rejects a bad unit string and suggests the binary unit', () => {
    const error = failure(() => parseRawSlotPoolConfig({ limits: { guardBytes: '2MB', maxImageBytes: '12 parsecs' } }));
    expect(issueAt(error, 'limits.guardBytes')).toContain('did you mean "2MiB"?');
    expect(issueAt(error, 'limits.maxImageBytes')).toMatch(/"12 parsecs" is not a byte size — .*KiB, MiB, GiB/);
  });

  it('checks byte sizes against their bounds after applying the unit', () => {
    const error = failure(() =>
      parseRawSlotPoolConfig({ limits: { maxMemoryBytesPerSlot: '63KiB', guardBytes: '3000' }, reset: { maxResidentBytes: '8GiB' } }),
    );
    expect(issueAt(error, 'limits.maxMemoryBytesPerSlot')).toContain('below the minimum 64KiB');
    expect(issueAt(error, 'limits.guardBytes')).toContain('not a multiple of 4KiB');
    expect(issueAt(error, 'reset.maxResidentBytes')).toContain('above the maximum 4GiB');
  });

  it('lists the valid strategies for an unknown one, and suggests a near miss', () => {
    const unknown = issueAt(failure(() => parseConfig({ strategy: 'snapshot' })), 'strategy');
    expect(unknown).toContain('"fresh", "copy", "cow", "reuse"');
    expect(unknown).toContain('"snapshot"');
    expect(issueAt(failure(() => parseConfig({ strategy: 'cwo' })), 'strategy')).toContain('did you mean "cow"?');
  });

  it('lists the valid exhausted policies for an unknown or missing one', () => {
    expect(issueAt(failure(() => parseConfig({ exhausted: { policy: 'block' } })), 'exhausted.policy')).toContain(
      '"throw", "wait"',
    );
    expect(issueAt(failure(() => parseConfig({ exhausted: {} })), 'exhausted.policy')).toMatch(/^missing — /);
  });

  it('rejects a value that is not an object', () => {
    for (const value of [null, 42, 'cow', []]) {
      const error = failure(() => parseConfig(value));
      expect(error.issues?.map((i) => i.path)).toEqual(['']);
    }
  });
});

describe('JSON syntax errors carry line and column', () => {
  const cases: { name: string; text: string; line: number; column: number; hint: string }[] = [
    { name: 'trailing comma', text: '{\n  "strategy": "cow",\n  "limits": { "maxSlots": 4, }\n}', line: 3, column: 30, hint: 'trailing comma' },
    { name: 'comment', text: '{\n  // pool settings\n  "strategy": "cow"\n}', line: 2, column: 3, hint: 'no comments' },
    { name: 'missing comma', text: '{\n  "strategy": "cow"\n  "lazyTables": true\n}', line: 3, column: 3, hint: 'comma' },
    { name: 'unquoted key', text: '{ strategy: "cow" }', line: 1, column: 3, hint: 'double quotes' },
    { name: 'unterminated string', text: '{\n"strategy": "cow', line: 2, column: 17, hint: 'close the string' },
    { name: 'empty file', text: '', line: 1, column: 1, hint: 'expected a value' },
  ];

  for (const c of cases) {
    it(`reports a ${c.name} at line ${c.line}, column ${c.column}`, () => {
      const file = join(dir, `${c.name.replace(/ /g, '-')}.json`);
      writeFileSync(file, c.text);
      const error = failure(() => loadConfig(file));
      expect(error.code).toBe('INVALID_CONFIG');
      expect(error.message).toContain(`line ${c.line}, column ${c.column}`);
      expect(error.message).toContain(`${file}:${c.line}:${c.column}`);
      expect(error.message).toContain(c.hint);
      expect(error.issues).toHaveLength(1);
    });
  }

  it('accepts a byte-order mark before the JSON', () => {
    expect(parseConfigJson('\uFEFF{"strategy": "copy"}').strategy).toBe('copy');
  });

  it('names the file in the message when its fields are bad', () => {
    const file = join(dir, 'bad-field.json');
    writeFileSync(file, JSON.stringify({ limits: { maxSlots: -3 } }));
    const error = failure(() => loadConfig(file));
    expect(error.message).toContain(file);
    expect(issueAt(error, 'limits.maxSlots')).toContain('got -3');
  });

  it('reports a file that cannot be read as INVALID_CONFIG naming the path', () => {
    const missing = join(dir, 'does-not-exist.json');
    const error = failure(() => loadConfig(missing));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
  });
});
