/**
 * An initializer that traps, throws, rejects, never returns within
 * `initialize.timeoutMs`, or returns a value that cannot be cloned makes
 * prepare() fail with a typed error saying which; a start function that traps
 * likewise. The pool is unharmed: it prepares and serves the next module,
 * and no slot or lease was taken.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, isCowpoolError, type InitializeOptions, type InitializingInstance } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';

const pool = createPool({ strategy: 'cow', limits: { maxSlots: 2 } });
afterAll(() => pool.close());

async function prepareError(bytes: Uint8Array, initialize: InitializeOptions): Promise<{ code: string; message: string }> {
  try {
    await pool.prepare(bytes, { initialize, name: 'bad.wasm' });
  } catch (e) {
    if (isCowpoolError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('prepare succeeded');
}

describe('bad initializers', async () => {
  const bytes = await watModule(`(module (memory (export "mem") 1)
    (func (export "trap") unreachable)
    (func (export "spin") (loop $l (br $l)))
    (func (export "ok") (i32.store (i32.const 0) (i32.const 42))))`);
  const trappingStart = await watModule(`(module (memory 1) (func $s unreachable) (start $s) (func (export "ok")))`);
  const spinningStart = await watModule(`(module (memory 1) (func $s (loop $l (br $l))) (start $s) (func (export "ok")))`);

  it.each([
    ['an exported initializer that traps', bytes, { export: 'trap' }, /initializer \(export "trap"\) failed: RuntimeError: unreachable/],
    ['host code that throws', bytes, { run: () => { throw new TypeError('boom'); } }, /initializer \(run\(\)\) failed: TypeError: boom/],
    ['host code whose promise rejects', bytes, { run: async () => { await null; throw new Error('late boom'); } }, /initializer \(run\(\)\) failed: Error: late boom/],
    ['a wasm loop past timeoutMs', bytes, { export: 'spin', timeoutMs: 150 }, /initializer \(export "spin"\) failed: did not return within 150 ms/],
    ['host code calling a wasm loop past timeoutMs', bytes, { run: (i: InitializingInstance) => (i.exports.spin as () => void)(), timeoutMs: 150 }, /initializer \(run\(\)\) failed: did not return within 150 ms/],
    ['a promise that never settles', bytes, { run: () => new Promise(() => {}), timeoutMs: 100 }, /initializer \(run\(\)\) failed: did not settle within 100 ms/],
    ['a return value that cannot be cloned (a function)', bytes, { run: () => ({ f: () => 1 }) }, /cloning what the initializer \(run\(\)\) returned failed/],
    ['a return value that cannot be cloned (a wasm memory)', bytes, { run: (_i: InitializingInstance, memory: WebAssembly.Memory | null) => memory }, /cloning what the initializer \(run\(\)\) returned failed/],
    ['a start function that traps', trappingStart, { export: 'ok' }, /the start function \(function 0\) failed: RuntimeError: unreachable/],
    ['a start function past timeoutMs', spinningStart, { export: 'ok', timeoutMs: 150 }, /the start function \(function 0\) failed: did not return within 150 ms/],
  ] as const)('%s: INSTANTIATE_FAILED, pool unharmed', async (_name, module, initialize, message) => {
    const error = await prepareError(module, initialize as InitializeOptions);
    expect(error.code).toBe('INSTANTIATE_FAILED');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^bad\.wasm: /);

    const before = pool.stats();
    expect(before.leases.active).toBe(0);
    const prepared = await pool.prepare(bytes, { initialize: { export: 'ok' } });
    const lease = pool.instantiate(prepared);
    expect(new Int32Array((lease.exports.mem as WebAssembly.Memory).buffer)[0]).toBe(42);
    lease.release();
    expect(pool.stats().resetFailures).toBe(0);
  });

  it.each([
    ['both export and run', { export: 'ok', run: () => 1 }, /exactly one of `export`/],
    ['neither export nor run', {}, /exactly one of `export`/],
    ['an export that is not a function', { export: 'mem' }, /"mem" is not an exported function/],
    ['an export that does not exist', { export: 'nope' }, /"nope" is not an exported function/],
    ['a timeout that is not a positive integer', { export: 'ok', timeoutMs: -1 }, /timeoutMs must be a positive integer/],
  ] as const)('%s: INVALID_ARGUMENT', async (_name, initialize, message) => {
    const error = await prepareError(bytes, initialize as InitializeOptions);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });
});
