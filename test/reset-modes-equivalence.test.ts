/**
 * Every reset mode leaves the memory exactly "image, then zeros", whatever the
 * tenant wrote: random pages, the first and last page of the image and of the
 * memory, the same pages every cycle, through the host's view of the buffer
 * and through a wasm store; after another image is mapped over the slot
 * (a new mapping loses write-tracking registration); and for raw slots.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { createAutoResetPolicy } from '../src/policy/auto-reset-policy.js';
import {
  PoolResetState,
  resetRawSlot,
  resetV8Memory,
  SlotResetState,
  type ResetModeCounters,
  type ResetSettings,
} from '../src/slots/memory-reset.js';
import { MODE_CASES, MappedMemory, patternBytes, wasmStore, WASM_PAGE } from './support/reset-harness.js';

const PAGE = addon().pageSize;
/** Not a page multiple: the image's last page is part data, part the file's zero padding. */
const IMAGE_BYTES = (1 << 20) + 1234;
const MEMORY_PAGES = (4 << 20) / WASM_PAGE;
/** One pool's reset state for every reset in this file: the statistics test reads what they all counted. */
const resets = new PoolResetState(createAutoResetPolicy);

interface Write {
  page: number;
  offset: number;
  value: number;
  via: 'host' | 'wasm';
}

function writeArb(osPages: number): fc.Arbitrary<Write> {
  return fc.record({
    page: fc.nat(osPages - 1),
    offset: fc.nat(PAGE - 1),
    value: fc.nat(255),
    via: fc.constantFrom<'host' | 'wasm'>('host', 'wasm'),
  });
}

describe.each(MODE_CASES)('reset mode $name', ({ name, settings }) => {
  let m: MappedMemory;
  let store8: (address: number, value: number) => void;
  const key = `equivalence:${name}`;

  beforeAll(async () => {
    m = new MappedMemory(patternBytes(IMAGE_BYTES, 7), MEMORY_PAGES);
    store8 = await wasmStore(m.memory);
  });

  function apply(writes: readonly Write[]): void {
    const bytes = m.bytes;
    for (const w of writes) {
      const address = w.page * PAGE + w.offset;
      if (w.via === 'host') bytes[address] = w.value;
      else store8(address, w.value);
    }
  }

  function reset(): void {
    resetV8Memory(m.memory.buffer, m.image, settings, { pool: resets, key, slot: m.state });
  }

  it('restores image then zeros after random write sets', () => {
    const edges = (value: number): Write[] =>
      [0, m.imagePages - 1, m.imagePages, m.osPages - 1].map((page) => ({ page, offset: value % PAGE, value, via: 'host' as const }));
    fc.assert(
      fc.property(
        fc.array(fc.array(writeArb(m.osPages), { maxLength: 96 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.option(fc.nat(255), { nil: null }),
        (cycles, samePagesEveryCycle, edgeValue) => {
          for (const cycle of cycles) {
            const writes = samePagesEveryCycle ? (cycles[0] ?? []) : cycle;
            apply(edgeValue === null ? writes : [...writes, ...edges(edgeValue)]);
            reset();
            const at = m.firstMismatch();
            expect(at, `byte ${at} (page ${Math.floor(at / PAGE)}) differs after reset`).toBe(-1);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('restores every other page of the whole memory (more runs than one scan batch holds)', () => {
    const batch = addon().scanConstants.batch;
    const pages = Array.from({ length: m.osPages / 2 }, (_, i) => 2 * i);
    expect(pages.length).toBeGreaterThan(4 * batch);
    for (let round = 0; round < 3; round++) {
      apply(pages.map((page) => ({ page, offset: (page * 131) % PAGE, value: 0xa5, via: round % 2 === 0 ? 'host' : 'wasm' })));
      reset();
      expect(m.firstMismatch()).toBe(-1);
    }
  });

  it('restores pages written with the value they already held and with zero', () => {
    const bytes = m.bytes;
    // Same value into the image, zero into the zero part: the pages become
    // private but read unchanged; a reset must still leave them correct.
    apply([
      { page: 3, offset: 5, value: bytes[3 * PAGE + 5] ?? 0, via: 'host' },
      { page: m.imagePages + 3, offset: 9, value: 0, via: 'wasm' },
      { page: 4, offset: 0, value: 0, via: 'wasm' },
    ]);
    reset();
    expect(m.firstMismatch()).toBe(-1);
  });
});

describe.each(MODE_CASES)('reset mode $name across image changes', ({ name, settings }) => {
  it('restores the image mapped last, after mapImage replaced the previous one', () => {
    // 100_000 bytes: shorter than keep-resident's 256 KiB prefix, so the
    // prefix is image then zeros and keep-resident's zero fill runs.
    const images = [patternBytes(IMAGE_BYTES, 31), patternBytes(300_000, 32), patternBytes(2 * IMAGE_BYTES, 33), patternBytes(100_000, 34)].map(
      (bytes) => ({ bytes, image: new (addon().Image)(bytes) }),
    );
    const memory = new WebAssembly.Memory({ initial: MEMORY_PAGES, maximum: MEMORY_PAGES });
    const state = new SlotResetState();
    let previous = 0;
    for (let round = 0; round < 12; round++) {
      const { bytes, image } = images[round % images.length] as (typeof images)[number];
      addon().mapImage(memory.buffer, image, previous);
      previous = image.byteLength;
      state.remapped();
      const expected = new Uint8Array(memory.buffer.byteLength);
      expected.set(bytes);
      for (let cycle = 0; cycle < 3; cycle++) {
        const view = new Uint8Array(memory.buffer);
        for (let i = 0; i < 40; i++) view[((round * 97 + cycle * 31 + i * 53) % (view.length / PAGE)) * PAGE + i] = 0xee;
        // Just past the image, and the last byte of the keep-resident prefix.
        view[image.byteLength + cycle] = 0xee;
        view[settings.keepResidentBytes - 1 - cycle] = 0xee;
        resetV8Memory(memory.buffer, image, settings, { pool: resets, slot: state, key: `remap:${name}:${round % images.length}` });
        expect(Buffer.from(memory.buffer).equals(expected), `round ${round} cycle ${cycle}`).toBe(true);
      }
    }
  });
});

describe.each(MODE_CASES)('raw slot, reset mode $name', ({ name, settings }) => {
  it('restores image then zeros up to initialBytes, after writes and growth', () => {
    const data = patternBytes(IMAGE_BYTES, 41);
    const image = new (addon().Image)(data);
    const initial = 2 << 20;
    const raw = new (addon().RawSlot)(8 << 20, 64 * 1024);
    raw.configure(image, initial);
    const state = new SlotResetState();
    state.remapped();
    const expected = new Uint8Array(initial);
    expected.set(data);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(initial / PAGE - 1), fc.nat(PAGE - 1), fc.nat(255)), { maxLength: 64 }), fc.boolean(), (writes, grow) => {
        if (grow) raw.grow(4 << 20);
        const view = new Uint8Array(raw.buffer());
        for (const [page, offset, value] of writes) view[page * PAGE + offset] = value;
        if (grow) view[(3 << 20) + 5] = 9;
        resetRawSlot(raw, initial, settings, { pool: resets, slot: state, key: `raw:${name}` });
        expect(raw.size).toBe(initial);
        expect(Buffer.from(raw.buffer()).equals(expected)).toBe(true);
      }),
      { numRuns: 30 },
    );
    raw.destroy();
    image.release();
  });
});

describe('statistics', () => {
  // Runs its own resets against a reset state of its own, so it holds when
  // run alone or in any order.
  it('count a reset per mode that ran, with its copied and discarded bytes', () => {
    const cases: readonly [string, Partial<ResetSettings>][] = [
      ['madvise', { mode: 'madvise' }],
      ['keep-resident', { mode: 'keep-resident' }],
      ['restore-dirty', { mode: 'restore-dirty' }],
      ['restore-dirty-pread', { mode: 'restore-dirty', disable: ['pagemap_scan'] }],
      ['track-writes', { mode: 'track-writes' }],
    ];
    // A pool reset state of its own: its counters see exactly the resets below.
    const own = new PoolResetState(createAutoResetPolicy);
    const before = own.statistics();
    for (const [active, override] of cases) {
      const m = new MappedMemory(patternBytes(100_000, 51), 4);
      const settings = { ...(MODE_CASES[0] as (typeof MODE_CASES)[number]).settings, ...override };
      // Two tenants: the first reset of a tracked range registers it, the second restores what was written.
      for (let tenant = 0; tenant < 2; tenant++) {
        m.bytes[3 * PAGE + tenant] = 0x5a;
        m.bytes[40 * PAGE] = 0x5a;
        resetV8Memory(m.memory.buffer, m.image, settings, { pool: own, key: `statistics:${active}`, slot: m.state });
        expect(m.firstMismatch(), active).toBe(-1);
      }
      m.image.release();
    }
    const after = own.statistics();
    const delta = (mode: string, field: keyof ResetModeCounters): number =>
      (after[mode]?.[field] ?? 0) - (before[mode]?.[field] ?? 0);
    for (const [active] of cases) expect(delta(active, 'resets'), `resets run as ${active}`).toBe(2);
    // keep-resident copies its 256 KiB prefix back each time (image, then zeros to the prefix).
    expect(delta('keep-resident', 'bytesCopied')).toBe(2 * 256 * 1024);
    expect(delta('madvise', 'bytesCopied')).toBe(0);
    expect(delta('madvise', 'bytesDiscarded')).toBe(2 * 4 * WASM_PAGE);
    expect(delta('restore-dirty', 'bytesCopied')).toBeGreaterThanOrEqual(2 * PAGE);
    expect(delta('track-writes', 'pagesScanned')).toBeGreaterThan(0);
    expect(delta('track-writes', 'bytesCopied')).toBeGreaterThanOrEqual(2 * PAGE);
  });
});
