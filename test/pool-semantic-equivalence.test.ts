/**
 * Every strategy serves instances that behave like `new WebAssembly.Instance`
 * of the original bytes: same call results, same traps (class and message),
 * same memory size and bytes, globals and table entries after every step,
 * for three tenants in a row of a one-slot pool (so each later tenant gets a
 * slot somebody used before).
 *
 * `reuse` keeps one instance and rewinds memory, globals and tables; where
 * that is documented not to reproduce a fresh instance (segments dropped by
 * data.drop, memory written by the start function) the case says so and
 * reuse is not compared.
 */
import { describe, expect, it } from 'vitest';
import { createPool, type Lease, type PoolFallbackReason, type Strategy } from '../src/index.js';
import { callExport, instanceState, outcomeOf, type InstanceState, type Outcome } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

type Exports = Record<string, unknown>;
/** A call of an export by name, or a JS action on the exports (its result is recorded). */
type Step = [name: string, ...args: unknown[]] | ((exports: Exports) => unknown);

interface Case {
  name: string;
  wat: string;
  steps: Step[];
  imports?: () => WebAssembly.Imports;
  /** Build the imports for every tenant (an imported memory must not be shared by plain tenants). */
  importsPerTenant?: boolean;
  /** `true` when reuse reproduces a fresh instance; otherwise the documented reason it does not. */
  reuse: true | string;
  /** How the pooled strategies serve the module: copy-on-write, or this fallback. */
  served: 'pooled' | PoolFallbackReason;
  /** Outcomes the first tenant's steps must have (by step index), so agreeing on a wrong answer fails. */
  expected?: Record<number, Outcome | { threw: string }>;
  /** What instantiation must do, when it fails. */
  instantiateThrows?: string;
}

interface TenantRecord {
  instantiate: Outcome;
  exportNames?: string[];
  initial?: InstanceState;
  steps?: { outcome: Outcome; state: InstanceState }[];
}

const TENANTS = 3;
const trap = (message?: string): { threw: string; message?: string } =>
  message === undefined ? { threw: 'RuntimeError' } : { threw: 'RuntimeError', message };

const CASES: Case[] = [
  {
    name: 'active data at several offsets, overlapping, across 4 KiB and 64 KiB pages, up to the last byte',
    wat: `(module
      (memory (export "mem") 3 6)
      (data (i32.const 0) "\\01\\02\\03\\04")
      (data (i32.const 100) "one hundred")
      (data (i32.const 4090) "straddles a 4 KiB page")
      (data (i32.const 65530) "crosses a wasm page")
      (data (i32.const 200) "aaaaaaaaaaaaaaaa")
      (data (i32.const 204) "BBBB")
      (data (i32.const 202) "cc")
      (data (i32.const 196604) "end!")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    steps: [
      ['load', 0], ['load', 202], ['load', 205], ['load', 210], ['load32', 196604], ['load', 4095],
      ['store', 0, 255], ['store', 205, 0], ['store', 150000, 9], ['store', 196607, 1],
      (ex) => new Uint8Array((ex.mem as WebAssembly.Memory).buffer).fill(7, 60000, 70000).length,
      ['load', 65535], ['load32', 196605],
    ],
    reuse: true,
    served: 'pooled',
    expected: { 1: { value: 99 }, 2: { value: 66 }, 3: { value: 97 }, 4: { value: 0x21646e65 }, 12: trap('memory access out of bounds') },
  },
  {
    name: 'data only far from the start (image with leading zero pages)',
    wat: `(module
      (memory (export "mem") 4)
      (data (i32.const 200000) "far away")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    steps: [['load', 200000], ['store', 0, 1], ['store', 200001, 0], ['store', 262143, 3]],
    reuse: true,
    served: 'pooled',
    expected: { 0: { value: 102 } },
  },
  {
    name: 'no data at all (empty image)',
    wat: `(module
      (memory (export "mem") 2)
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    steps: [['load', 5], ['store', 5, 5], ['store', 131071, 6], ['load', 131071]],
    reuse: true,
    served: 'pooled',
    expected: { 0: { value: 0 }, 3: { value: 6 } },
  },
  {
    name: 'passive segments with memory.init and data.drop, between active ones',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 8) "active-0")
      (data $p1 "passive-1")
      (data (i32.const 32) "active-2")
      (data $p3 "passive-three")
      (func (export "init0") (param i32 i32 i32) (memory.init 0 (local.get 0) (local.get 1) (local.get 2)))
      (func (export "init1") (param i32 i32 i32) (memory.init $p1 (local.get 0) (local.get 1) (local.get 2)))
      (func (export "init3") (param i32 i32 i32) (memory.init $p3 (local.get 0) (local.get 1) (local.get 2)))
      (func (export "drop1") (data.drop $p1))
      (func (export "drop2") (data.drop 2))
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    steps: [
      ['init1', 1000, 0, 9], ['load', 1000], ['init3', 2000, 2, 5], ['init1', 3000, 8, 2],
      ['init0', 0, 0, 1], ['init0', 0, 0, 0], ['drop1'], ['init1', 1000, 0, 1], ['init1', 1000, 0, 0],
      ['drop2'], ['init3', 65530, 0, 6], ['init3', 65531, 0, 6], ['load', 8], ['load', 32],
    ],
    reuse: 'segments dropped by data.drop stay dropped in the kept instance',
    served: 'pooled',
    expected: {
      1: { value: 112 }, 3: trap('memory access out of bounds'), 4: trap('memory access out of bounds'), 5: { value: undefined },
      7: trap('memory access out of bounds'), 8: { value: undefined }, 11: trap('memory access out of bounds'), 12: { value: 97 },
    },
  },
  {
    name: 'zero-length segments at the end of memory and inside it',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 0) "head")
      (data (i32.const 65536) "")
      (data (i32.const 65000) "")
      (data (i32.const 65530) "tail!!")
      (func (export "init1") (param i32 i32 i32) (memory.init 1 (local.get 0) (local.get 1) (local.get 2)))
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    steps: [['load', 65535], ['init1', 65536, 0, 0], ['init1', 0, 0, 1], ['load', 0]],
    reuse: true,
    served: 'pooled',
    expected: { 0: { value: 33 }, 1: { value: undefined }, 2: trap('memory access out of bounds'), 3: { value: 104 } },
  },
  {
    name: 'zero-length segment past the end of memory (instantiation traps)',
    wat: `(module (memory (export "mem") 1) (data (i32.const 0) "head") (data (i32.const 65537) ""))`,
    steps: [],
    reuse: true,
    served: 'image-exceeds-initial-memory',
    instantiateThrows: 'RuntimeError',
  },
  {
    name: 'out-of-bounds active segment (instantiation traps like plain V8)',
    wat: `(module (memory (export "mem") 1) (data (i32.const 0) "first") (data (i32.const 65534) "spills over"))`,
    steps: [],
    reuse: true,
    served: 'image-exceeds-initial-memory',
    instantiateThrows: 'RuntimeError',
  },
  {
    name: 'out-of-bounds element segment after in-bounds data (pooled, V8 traps after the image is mapped)',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 0) "image")
      (table 1 funcref)
      (func $f)
      (elem (i32.const 1) $f))`,
    steps: [],
    reuse: true,
    served: 'pooled',
    instantiateThrows: 'RuntimeError',
  },
  {
    name: 'start function that writes memory and then traps',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 0) "image")
      (func $start (i32.store (i32.const 0) (i32.const 0x42424242)) unreachable)
      (start $start))`,
    steps: [],
    reuse: true,
    served: 'pooled',
    instantiateThrows: 'RuntimeError',
  },
  {
    name: 'memory.grow, then release: the next instance has the initial size and pristine data',
    wat: `(module
      (memory (export "mem") 1 3)
      (data (i32.const 10) "pristine")
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    steps: [
      ['size'], ['store', 10, 88], ['load', 70000], ['grow', 1], ['store', 70000, 5], ['load', 70000],
      ['grow', 5], ['size'], (ex) => (ex.mem as WebAssembly.Memory).grow(1), ['size'], ['load', 10],
    ],
    reuse: true,
    served: 'pooled',
    expected: { 0: { value: 1 }, 2: trap('memory access out of bounds'), 3: { value: 1 }, 5: { value: 5 }, 6: { value: -1 }, 7: { value: 2 }, 9: { value: 3 } },
  },
  {
    name: 'memory.grow without a declared maximum',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 0) "x")
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    steps: [['grow', 2], ['store', 200000, 1], ['grow', 0]],
    reuse: true,
    served: 'pooled',
    expected: { 0: { value: 1 }, 2: { value: 3 } },
  },
  {
    name: 'memory of zero pages',
    wat: `(module
      (memory (export "mem") 0 2)
      (data (i32.const 0) "")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`,
    steps: [['load', 0], ['grow', 1], ['store', 5, 1], ['load', 5]],
    reuse: true,
    served: 'pooled',
    expected: { 0: trap('memory access out of bounds'), 1: { value: 0 }, 3: { value: 1 } },
  },
  {
    name: 'an imported memory (the pool supplies it)',
    wat: `(module
      (import "env" "memory" (memory 1 4))
      (export "mem" (memory 0))
      (data (i32.const 16) "imported")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    steps: [['load', 16], ['store', 16, 0], ['store', 65535, 1]],
    imports: () => ({ env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 4 }) } }),
    importsPerTenant: true,
    reuse: true,
    served: 'pooled',
    expected: { 0: { value: 105 } },
  },
  {
    name: 'mutable globals of every JS-visible type, exported and internal, set from wasm and from JS',
    wat: `(module
      (import "env" "base" (global $base i32))
      (import "env" "note" (func $note (param i32)))
      (memory 1)
      (global $a (export "a") (mut i32) (i32.const 11))
      (global $b (mut i64) (i64.const -5))
      (global $c (export "c") (mut f64) (f64.const 1.5))
      (global $d (mut f32) (f32.const 2.5))
      (global $e (export "e") i32 (global.get $base))
      (global $r (mut externref) (ref.null extern))
      (global $f (mut funcref) (ref.null func))
      (elem declare func $bump)
      (func $bump (export "bump") (result i32)
        (global.set $a (i32.add (global.get $a) (i32.const 1)))
        (global.set $b (i64.mul (global.get $b) (i64.const 3)))
        (global.set $c (f64.add (global.get $c) (f64.const 0.25)))
        (global.set $d (f32.neg (global.get $d)))
        (call $note (global.get $a))
        (global.get $a))
      (func (export "getB") (result i64) (global.get $b))
      (func (export "getC") (result f64) (global.get $c))
      (func (export "getD") (result f32) (global.get $d))
      (func (export "setR") (param externref) (global.set $r (local.get 0)))
      (func (export "getR") (result externref) (global.get $r))
      (func (export "setF") (global.set $f (ref.func $bump)))
      (func (export "isFNull") (result i32) (ref.is_null (global.get $f))))`,
    steps: [
      ['getR'], ['isFNull'], ['bump'], ['bump'], ['getB'], ['getD'],
      (ex) => { (ex.a as WebAssembly.Global).value = 100; }, ['bump'],
      (ex) => { (ex.c as WebAssembly.Global).value = -1; }, ['getC'],
      (ex) => callExport(ex, 'setR', { tenant: 'secret' }), ['getR'], ['setF'], ['isFNull'],
    ],
    imports: () => ({ env: { base: 40, note: () => undefined } }),
    reuse: true,
    served: 'pooled',
    expected: {
      0: { value: null }, 1: { value: 1 }, 2: { value: 12 }, 3: { value: 13 }, 4: { value: -45n }, 5: { value: 2.5 },
      7: { value: 101 }, 9: { value: -1 }, 11: { value: { tenant: 'secret' } }, 13: { value: 0 },
    },
  },
  {
    name: 'tables with element segments, call_indirect, table.set and table.grow',
    wat: `(module
      (memory 1)
      (type $ii (func (param i32) (result i32)))
      (table $t (export "tab") 4 8 funcref)
      (table $hidden 3 funcref)
      (elem (table $t) (i32.const 1) func $double $square)
      (elem (table $hidden) (i32.const 0) func $square)
      (elem declare func $neg)
      (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
      (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
      (func $neg (type $ii) (i32.sub (i32.const 0) (local.get 0)))
      (func (export "call") (param i32 i32) (result i32) (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
      (func (export "callHidden") (param i32 i32) (result i32) (call_indirect $hidden (type $ii) (local.get 1) (local.get 0)))
      (func (export "put") (param i32) (table.set $t (local.get 0) (ref.func $neg)))
      (func (export "putHidden") (param i32) (table.set $hidden (local.get 0) (ref.func $neg)))
      (func (export "clear") (param i32) (table.set $t (local.get 0) (ref.null func)))
      (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
      (func (export "size") (result i32) (table.size $t)))`,
    steps: [
      ['call', 1, 5], ['call', 2, 5], ['call', 0, 5], ['call', 4, 5], ['put', 0], ['call', 0, 5], ['clear', 1],
      ['call', 1, 5], ['callHidden', 0, 6], ['putHidden', 0], ['callHidden', 0, 6], ['callHidden', 1, 1],
      (ex) => { const t = ex.tab as WebAssembly.Table; t.set(3, t.get(2)); }, ['call', 3, 4],
      ['grow', 2], ['size'], ['call', 5, 1],
    ],
    reuse: true,
    served: 'pooled',
    expected: {
      0: { value: 10 }, 1: { value: 25 }, 2: trap(), 3: trap(), 5: { value: -5 }, 7: trap(), 8: { value: 36 },
      10: { value: -6 }, 11: trap(), 13: { value: 16 }, 14: { value: 4 }, 15: { value: 6 }, 16: trap(),
    },
  },
  {
    name: 'a start function that writes memory and a global',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 0) "image")
      (global $count (export "count") (mut i32) (i32.const 0))
      (func $start
        (i32.store8 (i32.const 0) (i32.const 83))
        (i32.store (i32.const 40000) (i32.const 0xdeadbeef))
        (global.set $count (i32.add (global.get $count) (i32.const 1))))
      (start $start)
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    steps: [['load', 0], ['load', 1], ['load', 40000], ['store', 0, 1], ['store', 40000, 2]],
    reuse: 'the kept instance\'s start function does not run again, so its memory writes are lost by the rewind',
    served: 'pooled',
    expected: { 0: { value: 83 }, 1: { value: 109 }, 2: { value: 0xef } },
  },
  {
    name: 'traps of every kind, including one after a write',
    wat: `(module
      (memory (export "mem") 1)
      (data (i32.const 0) "trap-data")
      (type $ii (func (param i32) (result i32)))
      (table 2 funcref)
      (elem (i32.const 0) $nullary)
      (func $nullary (result i32) (i32.const 1))
      (func (export "unreachable") unreachable)
      (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "oob") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "writeThenTrap") (i32.store (i32.const 0) (i32.const 0x41414141)) unreachable)
      (func (export "mismatch") (result i32) (call_indirect (type $ii) (i32.const 0) (i32.const 0)))
      (func (export "nullcall") (result i32) (call_indirect (type $ii) (i32.const 0) (i32.const 1)))
      (func $rec (export "recurse") (param i32) (result i32) (call $rec (i32.add (local.get 0) (i32.const 1))))
      (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0))))`,
    steps: [
      ['unreachable'], ['div', 1, 0], ['div', -2147483648, -1], ['oob', 65533], ['oob', 65532], ['writeThenTrap'],
      ['oob', 0], ['mismatch'], ['nullcall'], ['recurse', 0], ['trunc', Number.NaN], ['trunc', 1e12], ['div', 7, 2],
    ],
    reuse: true,
    served: 'pooled',
    expected: {
      0: trap('unreachable'), 1: trap('divide by zero'), 2: trap('divide result unrepresentable'),
      3: trap('memory access out of bounds'), 4: { value: 0 }, 5: trap('unreachable'), 6: { value: 0x41414141 },
      7: trap(), 8: trap(), 9: { threw: 'RangeError' }, 10: trap(), 11: trap(), 12: { value: 3 },
    },
  },
];

/** Instantiates with `make`, then runs the case's steps recording the state after each. */
function runTenant(c: Case, make: () => { exports: Exports; exportNames: string[] }, original: WebAssembly.Module): TenantRecord {
  const made: { value?: { exports: Exports; exportNames: string[] } } = {};
  const instantiate = outcomeOf(() => {
    made.value = make();
    return 'instantiated';
  });
  if (made.value === undefined) return { instantiate };
  const { exports, exportNames } = made.value;
  const steps = c.steps.map((step) => {
    const outcome = outcomeOf(() => (typeof step === 'function' ? step(exports) : callExport(exports, ...step)));
    return { outcome, state: instanceState(exports, original) };
  });
  return { instantiate, exportNames, initial: instanceState(exports, original), steps };
}

function plainRecords(c: Case, bytes: Uint8Array): TenantRecord[] {
  const module = new WebAssembly.Module(bytes);
  const shared = c.imports?.() ?? {};
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  return Array.from({ length: TENANTS }, () =>
    runTenant(c, () => {
      const imports = c.importsPerTenant === true ? (c.imports?.() ?? {}) : shared;
      return { exports: new WebAssembly.Instance(module, imports).exports, exportNames: names };
    }, module));
}

async function pooledRecords(c: Case, bytes: Uint8Array, strategy: Strategy) {
  const pool = createPool({ strategy, limits: { maxSlots: 1 } });
  const prepared = await pool.prepare(bytes, { name: c.name });
  const original = new WebAssembly.Module(bytes);
  const shared = c.imports?.() ?? {};
  const records = Array.from({ length: TENANTS }, () => {
    const imports = c.importsPerTenant === true ? (c.imports?.() ?? {}) : shared;
    const held: { lease?: Lease } = {};
    const record = runTenant(c, () => {
      const lease = (held.lease = pool.instantiate(prepared, imports));
      return { exports: lease.exports, exportNames: lease.exportNames };
    }, original);
    held.lease?.release();
    return record;
  });
  const stats = pool.stats();
  pool.close();
  return { records, prepared, stats };
}

const bytesOf = new Map<string, Promise<Uint8Array>>();
const assemble = (c: Case): Promise<Uint8Array> => {
  let bytes = bytesOf.get(c.name);
  if (bytes === undefined) bytesOf.set(c.name, (bytes = watModule(c.wat)));
  return bytes;
};

describe('plain V8 baseline', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: the first tenant gets the pinned outcomes', async (_name, c) => {
    const [first] = plainRecords(c, await assemble(c));
    if (c.instantiateThrows !== undefined) {
      expect(first!.instantiate).toMatchObject({ threw: c.instantiateThrows });
      return;
    }
    expect(first!.instantiate).toEqual({ value: 'instantiated' });
    for (const [index, outcome] of Object.entries(c.expected ?? {})) {
      expect(first!.steps![Number(index)]!.outcome, `step ${index}`).toMatchObject(outcome);
    }
  });
});

const STRATEGY_LIST: Strategy[] = ['fresh', 'copy', 'cow', 'reuse'];

describe.each(STRATEGY_LIST)('strategy %s', (strategy) => {
  const cases = CASES.filter((c) => strategy !== 'reuse' || c.reuse === true);

  it.each(cases.map((c) => [c.name, c] as const))('%s: same observations as plain V8, tenant after tenant', async (_name, c) => {
    const bytes = await assemble(c);
    const expected = plainRecords(c, bytes);
    const { records, prepared, stats } = await pooledRecords(c, bytes, strategy);

    if (strategy === 'fresh') {
      expect(prepared.pooled).toBe(false);
      expect(prepared.fallbackReason).toBeNull();
    } else if (c.served === 'pooled') {
      expect(prepared.pooled, prepared.fallbackDetail ?? '').toBe(true);
      expect(prepared.cow).toBe(strategy !== 'copy');
    } else {
      expect(prepared.pooled).toBe(false);
      expect(prepared.fallbackReason).toBe(c.served);
    }

    expect(records).toEqual(expected);
    // Every instance (and every failed instantiation) gave its slot back.
    expect(stats.leases.active).toBe(0);
    expect(stats.slots.byState.leased).toBe(0);
  });
});

