/**
 * Malformed and hostile binaries: each one is refused with INVALID_WASM and a
 * byte offset inside the input (never another error type), quickly, and
 * without allocating what a declared size promises.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CowpoolError } from '../src/errors.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { splitSections } from '../src/wasm/module-sections.js';
import { WA, wat } from './support/wasm-fixtures.js';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const module = (...body: number[]): Uint8Array => Uint8Array.from([...HEADER, ...body]);

/** The INVALID_WASM error prepareLayout throws for `bytes`; fails the test on success or on any other error. */
function rejection(bytes: Uint8Array): CowpoolError {
  try {
    prepareLayout(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(CowpoolError);
    const error = e as CowpoolError;
    expect(error.code).toBe('INVALID_WASM');
    expect(error.offset).toEqual(expect.any(Number));
    expect(error.offset!).toBeGreaterThanOrEqual(0);
    expect(error.offset!).toBeLessThanOrEqual(bytes.length);
    return error;
  }
  throw new Error(`expected INVALID_WASM for ${Buffer.from(bytes).toString('hex')}`);
}

/** Prepare `bytes`: a layout, or the INVALID_WASM error (any other outcome fails the test). */
function prepareOrReject(bytes: Uint8Array): 'prepared' | 'rejected' {
  try {
    const layout = prepareLayout(bytes);
    if (layout.cow) expect(WA.validate(layout.bytes)).toBe(true);
    return 'prepared';
  } catch (e) {
    if (!(e instanceof CowpoolError) || e.code !== 'INVALID_WASM') throw e;
    expect(e.offset).toEqual(expect.any(Number));
    expect(e.offset!).toBeGreaterThanOrEqual(0);
    expect(e.offset!).toBeLessThanOrEqual(bytes.length);
    return 'rejected';
  }
}

function timed<T>(run: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = run();
  return { result, ms: performance.now() - t0 };
}

/** A module using every section kind, with a name section. */
let REAL: Uint8Array;
beforeAll(async () => {
  REAL = await wat(`(module $m
    (type $t (func (param i32) (result i32)))
    (import "env" "f" (func $imp (type $t)))
    (import "env" "g" (global $gi i32))
    (func $id (type $t) (local.get 0))
    (func $start (drop (call $imp (i32.const 1))))
    (table $tab 4 funcref)
    (memory (export "mem") 1 4)
    (global $mut (mut i32) (i32.const 7))
    (export "id" (func $id))
    (start $start)
    (elem (i32.const 0) $id $imp)
    (data $a (i32.const 16) "active data")
    (data $p "passive")
    (func (export "init") (memory.init $p (i32.const 0) (i32.const 0) (i32.const 7))))`);
  expect(WA.validate(REAL)).toBe(true);
});

describe('header', () => {
  it('empty input', () => {
    const e = rejection(new Uint8Array(0));
    expect(e.offset).toBe(0);
    expect(e.message).toMatch(/magic number/);
  });

  it('bad magic, including text format passed as bytes', () => {
    expect(rejection(Uint8Array.from([0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0])).offset).toBe(3);
    expect(rejection(new TextEncoder().encode('(module)')).offset).toBe(0);
  });

  it('bad version (including a component binary)', () => {
    expect(rejection(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x02, 0, 0, 0])).offset).toBe(4);
    expect(rejection(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00])).offset).toBe(4);
  });
});

describe('LEB128', () => {
  it('a u32 longer than 5 bytes', () => {
    const e = rejection(module(0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00));
    expect(e.offset).toBe(9);
    expect(e.message).toMatch(/longer than 5 bytes/);
  });

  it('a 5-byte u32 with bits set above bit 31', () => {
    const e = rejection(module(0x01, 0xff, 0xff, 0xff, 0xff, 0x7f));
    expect(e.offset).toBe(9);
    expect(e.message).toMatch(/overflow/);
  });

  it('an s32 constant with inconsistent sign bits', () => {
    // (memory 1) (data (i32.const <bad>) "")
    const e = rejection(module(0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x0a, 0x01, 0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x4f, 0x0b, 0x00));
    expect(e.offset).toBe(18);
    expect(e.message).toMatch(/data segment 0 offset.*overflow/);
  });

  it('a LEB128 cut off by the end of its section', () => {
    // memory section of 3 bytes: count 1, flags 0, then a minimum whose continuation bit leads past the section.
    const e = rejection(module(0x05, 0x03, 0x01, 0x00, 0x80, 0x0b, 0x00));
    expect(e.offset).toBe(13);
    expect(e.message).toMatch(/unexpected end of the memory section/);
  });
});

describe('sections', () => {
  it('a section length past the end of the file', () => {
    const e = rejection(module(0x01, 0x05, 0x00));
    expect(e.offset).toBe(9);
    expect(e.message).toMatch(/5 bytes but only 1 remain/);
  });

  it('sections out of order', () => {
    const e = rejection(module(0x05, 0x03, 0x01, 0x00, 0x01, 0x01, 0x01, 0x00));
    expect(e.offset).toBe(13);
    expect(e.message).toMatch(/\(type section\): the section must come before the memory section/);
  });

  it('a data count section after the code section', () => {
    expect(rejection(module(0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00)).offset).toBe(11);
  });

  it('a duplicated section', () => {
    const e = rejection(module(0x05, 0x03, 0x01, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01));
    expect(e.offset).toBe(13);
    expect(e.message).toMatch(/appears twice/);
  });

  it('an unknown section id', () => {
    expect(rejection(module(0x0e, 0x00)).offset).toBe(8);
    expect(rejection(module(0x7f, 0x00)).offset).toBe(8);
  });

  it('a section whose contents are shorter than its declared size', () => {
    // memory section of size 4 holding one 3-byte memory and a stray byte.
    const e = rejection(module(0x05, 0x04, 0x01, 0x00, 0x01, 0xaa));
    expect(e.offset).toBe(13);
    expect(e.message).toMatch(/unread/);
  });

  it('a custom section name that is not UTF-8 or runs past its section', () => {
    expect(rejection(module(0x00, 0x03, 0x02, 0xff, 0xfe)).offset).toBe(10);
    expect(rejection(module(0x00, 0x01, 0x05)).offset).toBe(11);
  });

  it('an export name that is not UTF-8', () => {
    // (memory 1) (export "\xc3\x28" (memory 0))
    expect(rejection(module(0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x06, 0x01, 0x02, 0xc3, 0x28, 0x02, 0x00)).offset).toBe(16);
  });

  it('a function count without matching bodies', () => {
    // (type (func)) (func) with no code section
    const e = rejection(module(0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00));
    expect(e.message).toMatch(/declares 1 function\(s\) but the code section has 0 bodies/);
  });
});

describe('hostile sizes fail fast without allocating them', () => {
  const HUGE = [0xff, 0xff, 0xff, 0xff, 0x0f];

  for (const [id, name] of [
    [0x01, 'type'],
    [0x02, 'import'],
    [0x03, 'function'],
    [0x04, 'table'],
    [0x05, 'memory'],
    [0x06, 'global'],
    [0x07, 'export'],
    [0x09, 'element'],
    [0x0a, 'code'],
    [0x0b, 'data'],
    [0x0d, 'tag'],
  ] as const) {
    it(`0xFFFFFFFF entries in the ${name} section with 3 bytes of payload`, () => {
      const { result, ms } = timed(() => rejection(module(id, 0x08, ...HUGE, 0x00, 0x00, 0x00)));
      expect(result.offset).toBe(10);
      expect(result.message).toMatch(/declares 4294967295 entries/);
      expect(ms).toBeLessThan(50);
    });
  }

  it('a data segment claiming 4 GiB', () => {
    // (memory 1) (data (i32.const 0) <length 0xFFFFFFFF> "a")
    const bytes = module(0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x0b, 0x01, 0x00, 0x41, 0x00, 0x0b, ...HUGE, 0x61);
    const { result, ms } = timed(() => rejection(bytes));
    expect(result.offset).toBe(bytes.length - 1);
    expect(result.message).toMatch(/4294967295 byte\(s\) are declared but only 1 remain/);
    expect(ms).toBeLessThan(50);
  });

  it('a function body claiming 4 GiB', () => {
    const bytes = module(0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x07, 0x01, ...HUGE, 0x0b);
    expect(timed(() => rejection(bytes)).ms).toBeLessThan(50);
  });
});

describe('engine rejections', () => {
  it('a well-formed module that does not type-check names the engine reason and offset', async () => {
    const bytes = await wat('(module (func (result i32) (i32.const 1)))');
    // Make the body return nothing while declaring an i32 result: replace `i32.const 1` with two nops.
    const at = bytes.findIndex((b, i) => b === 0x41 && bytes[i + 1] === 0x01 && bytes[i + 2] === 0x0b);
    const broken = Uint8Array.from(bytes);
    broken[at] = 0x01;
    broken[at + 1] = 0x01;
    const e = rejection(broken);
    expect(e.message).toMatch(/not a valid module/);
    expect(e.offset).toBeGreaterThan(8);
  });
});

describe('truncation and mutation', () => {
  it('every prefix of a real module is refused with INVALID_WASM unless it ends on a section boundary', () => {
    const boundaries = new Set([8, ...splitSections(REAL).map((s) => s.end)]);
    let rejected = 0;
    for (let length = 0; length < REAL.length; length++) {
      const outcome = prepareOrReject(REAL.subarray(0, length));
      if (!boundaries.has(length)) expect(outcome, `prefix of ${length} bytes`).toBe('rejected');
      if (outcome === 'rejected') rejected++;
    }
    expect(rejected).toBeGreaterThan(REAL.length - boundaries.size - 1);
  });

  it('prefixes of third-party modules are refused with INVALID_WASM', () => {
    const require = createRequire(import.meta.url);
    const sql = new Uint8Array(readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm')));
    const boundaries = new Set([8, ...splitSections(sql).map((s) => s.end)]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sql.length - 1 }), (length) => {
        const outcome = prepareOrReject(sql.subarray(0, length));
        if (!boundaries.has(length)) expect(outcome).toBe('rejected');
      }),
      { numRuns: 300 },
    );
  });

  it('random byte mutations either prepare or throw INVALID_WASM, in bounded time', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    let prepared = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = Array.from(REAL);
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          if (e.kind === 'set' && at < bytes.length) bytes[at] = e.value;
          else if (e.kind === 'insert') bytes.splice(at, 0, e.value);
          else if (e.kind === 'delete') bytes.splice(at, 1);
        }
        const { result, ms } = timed(() => prepareOrReject(Uint8Array.from(bytes)));
        if (result === 'prepared') prepared++;
        expect(ms).toBeLessThan(1000);
      }),
      { numRuns: 600 },
    );
    // Mutating data payloads or names keeps a module valid, so some must prepare.
    expect(prepared).toBeGreaterThan(0);
  });

  it('random mutations of a large real module stay INVALID_WASM or prepare', () => {
    const require = createRequire(import.meta.url);
    const quickjs = new Uint8Array(readFileSync(require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(quickjs.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (edits) => {
        const bytes = Uint8Array.from(quickjs);
        for (const [at, value] of edits) bytes[at] = value;
        const { ms } = timed(() => prepareOrReject(bytes));
        expect(ms).toBeLessThan(5000);
      }),
      { numRuns: 40 },
    );
  });
});
