/**
 * State a snapshot cannot reproduce exactly is refused with
 * SNAPSHOT_UNSUPPORTED naming what and where: non-null externref values (in a
 * global, in a table), imported mutable globals and imported tables the
 * initializer changed, a function that belongs to another instance, a shared
 * memory. The same modules whose initializer leaves such state alone are
 * accepted, so each refusal is about the state, not the module shape.
 */
import { describe, expect, it } from 'vitest';
import { createPool, isCowpoolError } from '../src/index.js';
import { checkSnapshotShape } from '../src/snapshot/snapshot-shape.js';
import { parseModule } from '../src/wasm/parse-module.js';
import { watModule } from './helpers/wat-module.js';

async function refusal(bytes: Uint8Array, initialize: Parameters<ReturnType<typeof createPool>['prepare']>[1]): Promise<string> {
  const pool = createPool({ strategy: 'cow' });
  try {
    await pool.prepare(bytes, initialize);
  } catch (e) {
    if (isCowpoolError(e, 'SNAPSHOT_UNSUPPORTED')) return e.message;
    throw e;
  } finally {
    pool.close();
  }
  throw new Error('prepare accepted the snapshot');
}

async function accepted(bytes: Uint8Array, initialize: Parameters<ReturnType<typeof createPool>['prepare']>[1]): Promise<void> {
  const pool = createPool({ strategy: 'cow' });
  try {
    await pool.prepare(bytes, initialize);
  } finally {
    pool.close();
  }
}

describe('snapshot refusals', () => {
  it('a non-null externref in a global, naming the global', async () => {
    const bytes = await watModule(`(module (memory 1)
      (global $g (mut externref) (ref.null extern))
      (func (export "set") (param externref) (global.set $g (local.get 0))))`);
    const message = await refusal(bytes, { initialize: { run: (i) => (i.exports.set as (v: unknown) => void)({ host: 'object' }) } });
    expect(message).toMatch(/global 0 \(externref\).*non-null/);
    await accepted(bytes, { initialize: { run: (i) => (i.exports.set as (v: unknown) => void)(null) } });
  });

  it('a non-null externref in a table, naming table and entry', async () => {
    const bytes = await watModule(`(module (memory 1)
      (table $t 4 externref)
      (func (export "set") (param externref) (table.set $t (i32.const 2) (local.get 0))))`);
    const message = await refusal(bytes, { initialize: { run: (i) => (i.exports.set as (v: unknown) => void)('a string') } });
    expect(message).toMatch(/table 0 \(externref\) entry 2/);
    await accepted(bytes, { initialize: { run: (i) => (i.exports.set as (v: unknown) => void)(null) } });
  });

  it('an imported mutable global the initializer changed, naming the import', async () => {
    const bytes = await watModule(`(module
      (import "env" "counter" (global $c (mut i32)))
      (memory 1)
      (func (export "bump") (global.set $c (i32.add (global.get $c) (i32.const 1))))
      (func (export "nothing")))`);
    const counter = new WebAssembly.Global({ value: 'i32', mutable: true }, 7);
    const message = await refusal(bytes, { initialize: { export: 'bump', imports: { env: { counter } } } });
    expect(message).toMatch(/imported mutable global 0 \(env\.counter\) was changed/);
    await accepted(bytes, { initialize: { export: 'nothing', imports: { env: { counter } } } });
  });

  it('an imported table the initializer changed (an entry, or its size), naming the import', async () => {
    const bytes = await watModule(`(module
      (import "env" "table" (table $t 2 funcref))
      (memory 1)
      (elem declare func $f)
      (func $f)
      (func (export "set") (table.set $t (i32.const 1) (ref.func $f)))
      (func (export "grow") (drop (table.grow $t (ref.null func) (i32.const 1))))
      (func (export "nothing")))`);
    const table = (): WebAssembly.Table => new WebAssembly.Table({ element: 'anyfunc', initial: 2 });
    expect(await refusal(bytes, { initialize: { export: 'set', imports: { env: { table: table() } } } })).toMatch(/imported table 0 \(env\.table\).*entry 1 changed/);
    expect(await refusal(bytes, { initialize: { export: 'grow', imports: { env: { table: table() } } } })).toMatch(/imported table 0 \(env\.table\).*size went from 2 to 3/);
    await accepted(bytes, { initialize: { export: 'nothing', imports: { env: { table: table() } } } });
  });

  it('a function of another instance stored in a funcref global', async () => {
    const bytes = await watModule(`(module (memory 1)
      (global $g (mut funcref) (ref.null func))
      (elem declare func $own)
      (func $own)
      (func (export "set") (param funcref) (global.set $g (local.get 0)))
      (func (export "own") (global.set $g (ref.func $own))))`);
    const other = new WebAssembly.Instance(new WebAssembly.Module(await watModule('(module (func (export "f")))')));
    const message = await refusal(bytes, { initialize: { run: (i) => (i.exports.set as (v: unknown) => void)(other.exports.f) } });
    expect(message).toMatch(/mutable global 0 \(funcref\) holds a function that is neither one of the module's functions nor one of its imports/);
    await accepted(bytes, { initialize: { export: 'own' } });
  });

  it('a 64-bit memory or a second memory (checked on the parse: this engine rejects both before)', async () => {
    const shapeRefusal = (bytes: Uint8Array): string => {
      try {
        checkSnapshotShape(bytes, parseModule(bytes), 'm.wasm');
      } catch (e) {
        if (isCowpoolError(e, 'SNAPSHOT_UNSUPPORTED')) return e.message;
        throw e;
      }
      throw new Error('accepted');
    };
    expect(shapeRefusal(await watModule('(module (memory i64 1))', { memory64: true }))).toMatch(/memory 0 uses 64-bit addresses/);
    expect(shapeRefusal(await watModule('(module (memory 1) (memory 1))', { multi_memory: true }))).toMatch(/2 memories/);
    expect(() => checkSnapshotShape(new Uint8Array(0), parseModule(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)), 'empty.wasm')).not.toThrow();
  });

  it('a shared memory, before anything runs', async () => {
    const bytes = await watModule(`(module (memory 1 1 shared) (func (export "init")))`, { threads: true });
    let ran = false;
    const message = await refusal(bytes, { initialize: { run: () => { ran = true; } } });
    expect(message).toMatch(/memory 0 is shared/);
    expect(ran).toBe(false);
  });
});
