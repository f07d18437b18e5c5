/**
 * Host-code initializers: `run(instance, memory)` may be async, may call the
 * instance's imports (from `initialize.imports`) and write memory from JS;
 * its return value, cloned, is `prepared.initialized`. A module that imports
 * its memory gets the memory from cowpool, and tenants start on a memory of
 * the size the initializer left (its maximum unchanged). The instance handed
 * to `run` shows only the module's own exports.
 */
import { describe, expect, it } from 'vitest';
import { createPool, STRATEGIES, type InitializingInstance } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module
  (import "host" "seed" (func $seed (result i32)))
  (import "env" "memory" (memory 1 5))
  (global $ptr (mut i32) (i32.const 0))
  (func (export "alloc") (param i32) (result i32)
    (global.get $ptr)
    (global.set $ptr (i32.add (global.get $ptr) (local.get 0))))
  (func (export "writeSeed") (param i32) (i32.store (local.get 0) (call $seed)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "ptr") (result i32) global.get $ptr)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

describe.each(STRATEGIES)('strategy %s', (strategy) => {
  it('an async initializer with imports, on an imported memory', async () => {
    const bytes = await watModule(WAT);
    const pool = createPool({ strategy });
    try {
      let seenExports: string[] = [];
      let returned: { rt: number; ctx: number; names: string[] } | null = null;
      const prepared = await pool.prepare(bytes, {
        initialize: {
          imports: { host: { seed: () => 0x5eed } },
          run: async (instance: InitializingInstance, memory: WebAssembly.Memory | null) => {
            seenExports = Object.keys(instance.exports);
            expect(memory).toBeInstanceOf(WebAssembly.Memory);
            const call = instance.exports as unknown as Record<string, (...a: number[]) => number>;
            await new Promise((resolve) => setTimeout(resolve, 5));
            const rt = call.alloc!(64);
            const ctx = call.alloc!(70_000);
            call.writeSeed!(ctx);
            memory!.grow(1);
            new Uint8Array(memory!.buffer)[100_000] = 7;
            returned = { rt, ctx, names: ['a', 'b'] };
            return returned;
          },
        },
      });
      expect(seenExports.sort()).toEqual(['alloc', 'grow', 'load', 'ptr', 'writeSeed']);
      expect(prepared.initialized).toEqual({ rt: 0, ctx: 64, names: ['a', 'b'] });
      expect(prepared.initialized).not.toBe(returned);
      expect(prepared.snapshot?.memory).toMatchObject({ pages: 2, declaredPages: 1 });

      for (let tenant = 0; tenant < 3; tenant++) {
        // Tenants have no seed: the initializer's import calls are in the snapshot.
        const imports: WebAssembly.Imports = { host: { seed: () => { throw new Error('called'); } } };
        // Under `fresh` the tenant supplies the memory (at least the snapshot's size); pooled strategies supply their own.
        const own = strategy === 'fresh' ? new WebAssembly.Memory({ initial: 2, maximum: 5 }) : null;
        if (own !== null) imports.env = { memory: own };
        const lease = pool.instantiate(prepared, imports);
        const call = lease.exports as unknown as Record<string, (...a: number[]) => number>;
        expect(call.ptr!()).toBe(64 + 70_000);
        expect(call.load!(64)).toBe(0x5eed);
        expect(call.load!(100_000) & 0xff).toBe(7);
        const memory = lease.memory ?? own!;
        expect(memory.buffer.byteLength).toBe(2 * 65536);
        // The maximum is still 5 pages.
        expect(call.grow!(4)).toBe(-1);
        expect(call.grow!(3)).toBe(2);
        call.alloc!(1000);
        lease.release();
      }
    } finally {
      pool.close();
    }
  });
});

it('without initialize, nothing is snapshotted', async () => {
  const pool = createPool({ strategy: 'cow' });
  try {
    const prepared = await pool.prepare(await watModule('(module (memory 1))'));
    expect(prepared.initialized).toBeUndefined();
    expect(prepared.snapshot).toBeNull();
  } finally {
    pool.close();
  }
});
