/**
 * Stub imports link a module without its glue: functions return 0, memory,
 * tables and globals are made to the declared types, per instance; a module
 * importing something no stub can stand in for is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { isCowpoolError } from '../src/errors.js';
import { stubImports } from '../src/bench/stub-imports.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { wat } from './support/wasm-fixtures.js';

const IMPORTS_EVERYTHING = `(module
  (import "env" "f" (func $f (result i32)))
  (import "env" "mem" (memory 2 8))
  (import "env" "tab" (table 3 funcref))
  (import "env" "g" (global $g i64))
  (import "env" "h" (global $h (mut f64)))
  (func (export "callf") (result i32) call $f)
  (func (export "size") (result i32) memory.size))`;

describe('bench stub imports', () => {
  it('links a module importing a function, memory, table and globals, with fresh objects per instance', async () => {
    const bytes = await wat(IMPORTS_EVERYTHING);
    const layout = prepareLayout(bytes);
    const stubs = stubImports(layout, 'everything', false);
    expect(stubs.summary).toBe('stubbed 1 function, 1 memory, 1 table, 2 globals');
    const module = new WebAssembly.Module(bytes);
    const first = stubs.next();
    const second = stubs.next();
    const instance = new WebAssembly.Instance(module, first.imports);
    new WebAssembly.Instance(module, second.imports);
    expect((instance.exports.callf as () => number)()).toBe(0);
    expect((instance.exports.size as () => number)()).toBe(2);
    expect(first.memory).not.toBeNull();
    expect(first.memory).not.toBe(second.memory);
    expect(first.imports.env?.tab).not.toBe(second.imports.env?.tab);
  });

  it('leaves memory 0 to the pool when it supplies it, and reuses one import object', async () => {
    const bytes = await wat('(module (import "env" "f" (func)) (import "a" "m" (memory 1)))');
    const stubs = stubImports(prepareLayout(bytes), 'pooled', true);
    const one = stubs.next();
    expect(one.imports.a).toBeUndefined();
    expect(one.memory).toBeNull();
    expect(stubs.next()).toBe(one);
  });

  it('refuses a tag import with BENCH_INPUT naming it', async () => {
    const bytes = await wat('(module (import "env" "oops" (tag (param i32))))', { exceptions: true } as never);
    let error: unknown;
    try {
      stubImports(prepareLayout(bytes), 'tagged', false);
    } catch (e) {
      error = e;
    }
    expect(isCowpoolError(error, 'BENCH_INPUT')).toBe(true);
    expect((error as Error).message).toContain('tagged: import "env"."oops" is an exception tag');
  });
});
