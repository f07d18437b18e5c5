/**
 * A prepared module (rewritten bytes + image copied into a fresh Memory) must
 * behave exactly like the original instantiated by V8: same memory contents
 * and size, same export results, same traps, same dropped-segment state.
 */
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareLayout, type PreparedLayout } from '../src/wasm/prepare-layout.js';
import { parseModule } from '../src/wasm/parse-module.js';
import {
  call,
  exportedMemory,
  instantiate,
  instantiatePrepared,
  outcome,
  WA,
  wat,
  watString,
  type Imports,
  type WasmInstance,
  type WasmMemory,
  type WatFeatures,
} from './support/wasm-fixtures.js';

// Node 20 ships extended constant expressions behind a flag; the offsets below use them.
setFlagsFromString('--experimental-wasm-extended-const');

type Probe = [name: string, ...args: unknown[]];

interface Case {
  name: string;
  source: string;
  features?: WatFeatures;
  imports?: () => Imports;
  /** Calls made in order on both instances; outcomes and memory are compared after each. */
  probes: Probe[];
  /** Outcomes some probes must have (index into probes), so agreement on a wrong answer fails. */
  expected?: Record<number, { value: unknown } | { threw: string }>;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function expectSameMemory(original: WasmMemory, prepared: WasmMemory, when: string): void {
  const a = new Uint8Array(original.buffer);
  const b = new Uint8Array(prepared.buffer);
  expect(b.length, `memory size ${when}`).toBe(a.length);
  expect(firstDifference(a, b), `first differing memory byte ${when}`).toBe(-1);
}

/** Every active segment of the rewritten module is empty and memory 0 is imported. */
function expectPayloadMoved(layout: PreparedLayout): void {
  const info = parseModule(layout.bytes);
  expect(info.memories).toHaveLength(1);
  expect(info.memories[0]!.imported).toBe(true);
  for (const d of info.data) if (d.mode === 'active') expect(d.dataLength).toBe(0);
  expect(info.data.filter((d) => d.mode === 'active')).toHaveLength(layout.activeSegments);
}

const CASES: Case[] = [
  {
    name: 'data at several offsets, across page boundaries, up to the last byte',
    source: `(module
      (memory (export "mem") 3 8)
      (data (i32.const 0) "\\00\\01head")
      (data (i32.const 1000) "one thousand")
      (data (i32.const 4090) "straddles a 4 KiB page")
      (data (i32.const 65530) "crosses into wasm page 2")
      (data (i32.const 196600) "lastbyte")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "size") (result i32) (memory.size))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`,
    probes: [['load', 1000], ['load', 196607], ['size'], ['grow', 1], ['size'], ['load', 196608], ['grow', 100]],
    expected: { 0: { value: 'o'.charCodeAt(0) }, 1: { value: 'e'.charCodeAt(0) }, 2: { value: 3 }, 3: { value: 3 }, 4: { value: 4 }, 6: { value: -1 } },
  },
  {
    name: 'overlapping segments: the later one wins',
    source: `(module
      (memory (export "mem") 1)
      (data (i32.const 100) "aaaaaaaaaaaaaaaa")
      (data (i32.const 104) "BBBB")
      (data (i32.const 98) "cc")
      (data (i32.const 100) "d")
      (data (i32.const 110) "eeeeeeeeee"))`,
    probes: [],
  },
  {
    name: 'passive segments, memory.init and data.drop, dropped active segments',
    source: `(module
      (memory (export "mem") 1)
      (data $a (i32.const 16) "active-bytes")
      (data $p "passive-bytes")
      (data $end (i32.const 65536) "")
      (func (export "initP") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
      (func (export "dropP") (data.drop $p))
      (func (export "initA") (param i32 i32 i32) (memory.init $a (local.get 0) (local.get 1) (local.get 2)))
      (func (export "initEnd") (param i32 i32 i32) (memory.init $end (local.get 0) (local.get 1) (local.get 2))))`,
    probes: [
      ['initP', 200, 0, 13],
      ['initP', 300, 8, 5],
      ['initP', 0, 14, 0],
      ['initA', 0, 0, 0],
      ['initA', 0, 0, 1],
      ['initA', 5, 1, 0],
      ['dropP'],
      ['initP', 0, 0, 1],
      ['initP', 0, 0, 0],
      ['initEnd', 65536, 0, 0],
      ['initEnd', 65537, 0, 0],
    ],
    expected: {
      0: { value: undefined },
      2: { threw: 'RuntimeError' },
      3: { value: undefined },
      4: { threw: 'RuntimeError' },
      5: { threw: 'RuntimeError' },
      7: { threw: 'RuntimeError' },
      8: { value: undefined },
      9: { value: undefined },
      10: { threw: 'RuntimeError' },
    },
  },
  {
    name: 'a zero-length segment at the very end of memory',
    source: `(module
      (memory (export "mem") 1 1)
      (data (i32.const 10) "x")
      (data (i32.const 65536) ""))`,
    probes: [],
  },
  {
    name: 'mutable globals initialised from constants and updated from data',
    source: `(module
      (memory (export "mem") 1)
      (global $g (mut i32) (i32.const 42))
      (global $h (export "h") (mut i64) (i64.const -7))
      (data (i32.const 0) "\\2a")
      (func (export "getG") (result i32) (global.get $g))
      (func (export "bump") (result i32)
        (global.set $g (i32.add (global.get $g) (i32.load8_u (i32.const 0))))
        (i32.store8 (i32.const 1) (global.get $g))
        (global.get $g)))`,
    probes: [['getG'], ['bump'], ['bump'], ['getG']],
    expected: { 0: { value: 42 }, 1: { value: 84 }, 3: { value: 126 } },
  },
  {
    name: 'tables with active and passive elements, call_indirect',
    source: `(module
      (memory (export "mem") 1)
      (type $t (func (result i32)))
      (table $tab 4 funcref)
      (elem (i32.const 1) $one $two)
      (elem $pe funcref (ref.func $three))
      (elem declare func $three)
      (data (i32.const 5) "\\07")
      (func $one (result i32) (i32.load8_u (i32.const 5)))
      (func $two (result i32) (i32.const 2))
      (func $three (result i32) (i32.const 3))
      (func (export "callAt") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
      (func (export "tinit") (table.init $tab $pe (i32.const 3) (i32.const 0) (i32.const 1))))`,
    probes: [['callAt', 0], ['callAt', 1], ['callAt', 2], ['callAt', 3], ['tinit'], ['callAt', 3], ['callAt', 9]],
    expected: {
      0: { threw: 'RuntimeError' },
      1: { value: 7 },
      2: { value: 2 },
      3: { threw: 'RuntimeError' },
      5: { value: 3 },
      6: { threw: 'RuntimeError' },
    },
  },
  {
    name: 'a start function that reads data and writes memory',
    source: `(module
      (memory (export "mem") 1)
      (global $seen (mut i32) (i32.const 0))
      (data (i32.const 100) "\\11\\22\\33\\44")
      (func $start
        (global.set $seen (i32.load (i32.const 100)))
        (i32.store (i32.const 200) (i32.add (i32.load (i32.const 100)) (i32.const 1))))
      (start $start)
      (func (export "seen") (result i32) (global.get $seen)))`,
    probes: [['seen']],
    expected: { 0: { value: 0x44332211 } },
  },
  {
    name: 'a memory that is imported and re-exported',
    source: `(module
      (import "env" "mem" (memory 1 4))
      (export "mem" (memory 0))
      (data (i32.const 8) "imported memory")
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    imports: () => ({ env: { mem: new WA.Memory({ initial: 1, maximum: 4 }) } }),
    probes: [['load', 8]],
    expected: { 0: { value: 'i'.charCodeAt(0) } },
  },
  {
    name: 'extended constant offsets (i32.add / i32.sub / i32.mul)',
    features: { extended_const: true },
    source: `(module
      (memory (export "mem") 1)
      (data (i32.add (i32.const 1000) (i32.mul (i32.const 3) (i32.const 7))) "ext")
      (data (i32.sub (i32.const 0) (i32.const -5)) "five")
      (data (i32.add (i32.const -1) (i32.const 65535)) "z"))`,
    probes: [],
  },
];

describe('prepared modules behave like their originals', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const bytes = await wat(c.source, c.features);
      const layout = prepareLayout(bytes);
      expect(layout.cow, layout.fallbackDetail ?? '').toBe(true);
      expect(layout.fallbackReason).toBeNull();
      expectPayloadMoved(layout);

      const original = instantiate(bytes, c.imports?.() ?? {});
      const prepared = instantiatePrepared(layout, c.imports?.() ?? {});
      expect(prepared.memory).toBe(exportedMemory(prepared.instance));
      expectSameMemory(exportedMemory(original), prepared.memory, 'after instantiation');

      c.probes.forEach((probe, i) => {
        const [name, ...args] = probe;
        const a = outcome(() => call(original, name, ...args));
        const b = outcome(() => call(prepared.instance, name, ...args));
        expect(b, `probe ${i} ${name}(${args.join(', ')})`).toEqual(a);
        const want = c.expected?.[i];
        if (want !== undefined) expect(a, `probe ${i} ${name} expected outcome`).toEqual(want);
        expectSameMemory(exportedMemory(original), prepared.memory, `after probe ${i} ${name}`);
      });
    });
  }

  it('lays overlapping segments out in order, later bytes over earlier ones', async () => {
    const layout = prepareLayout(await wat(CASES[1]!.source));
    expect(Buffer.from(layout.image.subarray(98, 120)).toString('latin1')).toBe('ccdaaaBBBBaaeeeeeeeeee');
    expect(layout.image.length).toBe(4096);
    expect(layout.imageDataBytes).toBe(16 + 4 + 2 + 1 + 10);
  });

  it('does not extend the image for a zero-length segment at the end of memory', async () => {
    const layout = prepareLayout(await wat(CASES[3]!.source));
    expect(layout.image.length).toBe(4096);
    expect(layout.activeSegments).toBe(2);
  });

  it('keeps an explicit memory index (data flags 2) in the rewritten segment', () => {
    // (memory 1) (export "mem" (memory 0)) (data (memory 0) (i32.const 5) "abc"), encoded with flags 2.
    const bytes = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x05, 0x03, 0x01, 0x00, 0x01,
      0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,
      0x0b, 0x0a, 0x01, 0x02, 0x00, 0x41, 0x05, 0x0b, 0x03, 0x61, 0x62, 0x63,
    ]);
    const layout = prepareLayout(bytes);
    expect(layout.cow).toBe(true);
    const data = parseModule(layout.bytes).data[0]!;
    expect(Array.from(layout.bytes.subarray(data.start, data.dataStart))).toEqual([0x02, 0x00, 0x41, 0x05, 0x0b, 0x00]);
    const original = instantiate(bytes);
    const prepared = instantiatePrepared(layout);
    expectSameMemory(exportedMemory(original), prepared.memory, 'after instantiation');
  });

  it('computes the same memory for a module whose memory is not exported', async () => {
    const source = `(module
      (memory 2)
      (data (i32.const 3) "hidden")
      (data (i32.const 70000) "second")
      (func (export "hash") (param $from i32) (param $to i32) (result i32) (local $h i32)
        (local.set $h (i32.const 0x811c9dc5))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
          (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $from))) (i32.const 0x01000193)))
          (local.set $from (i32.add (local.get $from) (i32.const 1)))
          (br $next)))
        (local.get $h)))`;
    const bytes = await wat(source);
    const layout = prepareLayout(bytes);
    expect(layout.memoryExportNames).toEqual([]);
    const original = instantiate(bytes);
    const prepared = instantiatePrepared(layout).instance;
    const full = 2 * 65536;
    expect(call(prepared, 'hash', 0, full)).toBe(call(original, 'hash', 0, full));
    expect(call(prepared, 'hash', 0, 9)).not.toBe(call(prepared, 'hash', 100, 109));
  });
});

describe('the image equals the memory V8 builds, for random segment layouts', () => {
  const layoutArb = fc
    .integer({ min: 1, max: 3 })
    .chain((pages) =>
      fc.record({
        pages: fc.constant(pages),
        segments: fc.array(
          fc
            .record({ start: fc.integer({ min: 0, max: pages * 65536 }), data: fc.uint8Array({ minLength: 0, maxLength: 300 }) })
            .map(({ start, data }) => ({ start: Math.min(start, pages * 65536 - data.length), data })),
          { maxLength: 8 },
        ),
        passive: fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 2 }),
        pageSizeLog2: fc.integer({ min: 0, max: 16 }),
      }),
    );

  it('matches byte for byte, with the image rounded to pageSize inside initial memory', async () => {
    await fc.assert(
      fc.asyncProperty(layoutArb, async ({ pages, segments, passive, pageSizeLog2 }) => {
        const pageSize = 2 ** pageSizeLog2;
        const active = segments.map((s) => `(data (i32.const ${s.start}) "${watString(s.data)}")`);
        const passives = passive.map((p) => `(data "${watString(p)}")`);
        const bytes = await wat(`(module (memory (export "mem") ${pages}) ${[...active, ...passives].join(' ')})`);
        const layout = prepareLayout(bytes, { pageSize });
        expect(layout.cow).toBe(true);
        expect(layout.activeSegments).toBe(segments.length);
        expect(layout.passiveSegments).toBe(passive.length);

        const truth = new Uint8Array(exportedMemory(instantiate(bytes)).buffer);
        const image = layout.image;
        expect(image.length % pageSize).toBe(0);
        expect(image.length).toBeLessThanOrEqual(pages * 65536);
        const contentEnd = Math.max(0, ...segments.filter((s) => s.data.length > 0).map((s) => s.start + s.data.length));
        expect(image.length).toBe(Math.ceil(contentEnd / pageSize) * pageSize);
        expect(firstDifference(image, truth.subarray(0, image.length))).toBe(-1);
        expect(truth.subarray(image.length).every((b) => b === 0)).toBe(true);

        const prepared: WasmInstance = instantiatePrepared(layout).instance;
        expect(firstDifference(new Uint8Array(exportedMemory(prepared).buffer), truth)).toBe(-1);
      }),
      { numRuns: 120 },
    );
  });
});
