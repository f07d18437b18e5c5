/**
 * Which export call_empty_function calls: the no-op when there is one, else
 * the smallest export without parameters whose body cannot call, loop or
 * touch memory — and none at all rather than a guess.
 */
import { describe, expect, it } from 'vitest';
import { findCallTarget } from '../src/bench/call-target.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { wat } from './support/wasm-fixtures.js';

async function targetOf(source: string, imports: WebAssembly.Imports = {}) {
  const bytes = await wat(source);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  return findCallTarget(bytes, prepareLayout(bytes), instance);
}

describe('bench call target', () => {
  it('prefers the exported no-op', async () => {
    const target = await targetOf(`(module
      (global $g (mut i32) (i32.const 0))
      (func (export "get") (result i32) global.get $g)
      (func (export "noop")))`);
    expect(target).toEqual({ name: 'noop', how: 'the exported no-op' });
  });

  it('falls back to the cheapest trivial export without parameters, skipping calls, loops, memory and parameters', async () => {
    const target = await targetOf(`(module
      (import "env" "f" (func $f))
      (memory 1)
      (global $g (mut i32) (i32.const 7))
      (func (export "calls") call $f)
      (func (export "loops") (loop br 0))
      (func (export "loads") (result i32) i32.const 0 i32.load)
      (func (export "takes") (param i32))
      (func (export "two") (result i32) global.get $g i32.const 0 drop)
      (func (export "one") (result i32) global.get $g))`, { env: { f: () => undefined } });
    expect(target?.name).toBe('one');
    expect(target?.how).toContain('1 instruction');
  });

  it('gives null when nothing is safe to call', async () => {
    const target = await targetOf(`(module
      (memory 1)
      (func (export "loops") (loop br 0))
      (func (export "stores") i32.const 0 i32.const 1 i32.store))`);
    expect(target).toBeNull();
  });
});
