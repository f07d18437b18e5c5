/**
 * What a tenant does with its instance, as data, and a seeded generator of
 * such sequences for a module shape. Every action is run the same way on the
 * pooled instance and on a plain V8 instance, and their outcomes compared.
 *
 * Addresses lean towards where isolation breaks: the first and last bytes of
 * memory, the end of the image, 4 KiB and 64 KiB page boundaries, just past
 * the end (traps), and 64 KiB page edges past the end (pages an earlier
 * tenant grew into).
 */
import { FUZZ_PAGE, type ModuleShape, type NumType, type NumValue } from './module-shape.js';
import type { Prng } from './prng.js';

export type TenantAction =
  | { kind: 'store'; width: 8 | 16 | 32 | 64; address: number; value: number }
  | { kind: 'load'; width: 8 | 32; address: number }
  | { kind: 'fill'; address: number; value: number; length: number }
  | { kind: 'copy'; dest: number; source: number; length: number }
  /** The host writes through `memory.buffer` (nothing when out of range, as a careful host checks). */
  | { kind: 'hostWrite'; address: number; value: number; length: number }
  | { kind: 'grow'; pages: number }
  | { kind: 'size' }
  | { kind: 'trapWrite'; address: number; length: number; value: number }
  | { kind: 'memoryInit'; segment: number; dest: number; source: number; length: number }
  | { kind: 'dataDrop'; segment: number }
  | { kind: 'globalSet'; global: number; value: NumValue; via: 'js' | 'wasm' }
  | { kind: 'tableSet'; table: number; index: number; func: number | null }
  | { kind: 'tableGrow'; table: number; delta: number }
  | { kind: 'tableCall'; table: number; index: number };

/** One line for a failure report. */
export function describeAction(a: TenantAction): string {
  const { kind, ...rest } = a;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'bigint' ? `${v}n` : String(v)}`);
  return `${kind}(${fields.join(', ')})`;
}

function imageEnd(shape: ModuleShape): number {
  let end = 0;
  for (const s of shape.data) if (s.mode === 'active') end = Math.max(end, s.offset + s.bytes.length);
  return end;
}

function address(prng: Prng, memBytes: number, shape: ModuleShape, width: number): number {
  const last = Math.max(0, memBytes - width);
  return prng.weighted<() => number>([
    [25, () => prng.int(0, last)],
    [10, () => 0],
    [12, () => last],
    [10, () => Math.max(0, Math.min(last, imageEnd(shape) + prng.int(-2, 2)))],
    [12, () => Math.min(last, 4096 * prng.int(1, Math.max(1, memBytes / 4096)) - prng.int(0, width))],
    [8, () => Math.min(last, FUZZ_PAGE * prng.int(0, Math.max(0, memBytes / FUZZ_PAGE)) + prng.int(-2, 2))],
    // Out of bounds: just past the end, or far.
    [10, () => memBytes - width + prng.int(1, width + 2)],
    // Page edges past the current size, where an earlier tenant's growth may have left pages
    // (a memory with a virtual size keeps them PROT_NONE: access must trap as past the end).
    [6, () => FUZZ_PAGE * prng.int(1, 8) + prng.int(-width, 2)],
    [3, () => prng.pick([0x7fff_ffff, 0xffff_ffff - 1, memBytes + FUZZ_PAGE])],
  ])();
}

function numValue(prng: Prng, type: NumType): NumValue {
  switch (type) {
    case 'i32':
      return prng.u32() | 0;
    case 'i64':
      return BigInt.asIntN(64, (BigInt(prng.u32()) << 32n) | BigInt(prng.u32()));
    case 'f32':
      return Math.fround(prng.float() * 2000 - 1000);
    case 'f64':
      return prng.float() * 2e9 - 1e9;
  }
}

/**
 * A sequence of actions for one tenant of `shape`. `maxPages` is the most the
 * memory can reach (the declared maximum, else 65536).
 */
export function randomTenantActions(prng: Prng, shape: ModuleShape, count: number): TenantAction[] {
  const actions: TenantAction[] = [];
  // A model of the memory size, only to aim addresses (the real size is what counts).
  let pages = shape.memory?.minPages ?? 0;
  const maxPages = shape.memory?.maxPages ?? 65536;
  const tableLengths = shape.tables.map((t) => t.min);
  const mutableGlobals = shape.globals.flatMap((g, i) => (g.mutable ? [i] : []));
  type Maker = () => TenantAction | null;
  const memory = shape.memory !== null;
  const bytes = (): number => pages * FUZZ_PAGE;
  const makers: [number, Maker][] = [
    [memory ? 30 : 0, () => {
      const width = prng.pick([8, 16, 32, 64] as const);
      return { kind: 'store', width, address: address(prng, bytes(), shape, width / 8), value: prng.u32() | 0 };
    }],
    [memory ? 6 : 0, () => {
      const width = prng.pick([8, 32] as const);
      return { kind: 'load', width, address: address(prng, bytes(), shape, width / 8) };
    }],
    [memory ? 10 : 0, () => {
      const whole = prng.chance(0.3);
      const at = whole ? 0 : address(prng, bytes(), shape, 1);
      return { kind: 'fill', address: at, value: prng.int(0, 255), length: whole ? bytes() : prng.int(0, 20_000) };
    }],
    [memory ? 4 : 0, () => ({ kind: 'copy', dest: address(prng, bytes(), shape, 1), source: address(prng, bytes(), shape, 1), length: prng.int(0, 9000) })],
    [memory ? 8 : 0, () => ({ kind: 'hostWrite', address: address(prng, bytes(), shape, 1), value: prng.int(1, 255), length: prng.int(1, 5000) })],
    [memory ? 8 : 0, () => {
      // The huge deltas always fail (past 4 GiB whatever the size now); a delta that succeeded
      // in reaching 4 GiB would only make every later observation copy 4 GiB.
      const grow = prng.weighted<number>([[70, prng.int(0, 2)], [20, prng.int(3, 6)], [10, prng.pick([65537, 0x7fff_ffff])]]);
      if (pages + grow <= maxPages) pages += grow;
      return { kind: 'grow', pages: grow };
    }],
    [memory ? 2 : 0, () => ({ kind: 'size' })],
    [memory ? 6 : 0, () => ({ kind: 'trapWrite', address: address(prng, bytes(), shape, 1), length: prng.int(0, 6000), value: prng.int(1, 255) })],
    [memory && shape.data.length > 0 ? 6 : 0, () => {
      const segment = prng.int(0, shape.data.length - 1);
      const segLength = shape.data[segment]?.bytes.length ?? 0;
      const source = prng.weighted<number>([[60, 0], [30, prng.int(0, segLength)], [10, segLength + 1]]);
      const length = prng.weighted<number>([[20, 0], [60, Math.max(0, segLength - source)], [20, prng.int(0, segLength + 2)]]);
      return { kind: 'memoryInit', segment, dest: address(prng, bytes(), shape, Math.max(1, length)), source, length };
    }],
    [memory && shape.data.length > 0 ? 4 : 0, () => ({ kind: 'dataDrop', segment: prng.int(0, shape.data.length - 1) })],
    [mutableGlobals.length > 0 ? 8 : 0, () => {
      const global = prng.pick(mutableGlobals);
      const type = shape.globals[global]?.type ?? 'i32';
      return { kind: 'globalSet', global, value: numValue(prng, type), via: prng.pick(['js', 'wasm'] as const) };
    }],
    [shape.tables.length > 0 ? 8 : 0, () => {
      const table = prng.int(0, shape.tables.length - 1);
      const length = tableLengths[table] ?? 0;
      const index = prng.chance(0.9) ? prng.int(0, Math.max(0, length - 1)) : length + prng.int(0, 2);
      return { kind: 'tableSet', table, index, func: prng.chance(0.2) ? null : prng.int(0, shape.funcCount - 1) };
    }],
    [shape.tables.length > 0 ? 3 : 0, () => {
      const table = prng.int(0, shape.tables.length - 1);
      const delta = prng.int(0, 3);
      const max = shape.tables[table]?.max ?? null;
      const length = tableLengths[table] ?? 0;
      if (max === null || length + delta <= max) tableLengths[table] = length + delta;
      return { kind: 'tableGrow', table, delta };
    }],
    [shape.tables.length > 0 ? 3 : 0, () => {
      const table = prng.int(0, shape.tables.length - 1);
      return { kind: 'tableCall', table, index: prng.int(0, (tableLengths[table] ?? 0) + 1) };
    }],
  ];
  const live = makers.filter(([w]) => w > 0);
  if (live.length === 0) return actions;
  for (let i = 0; i < count; i++) {
    const action = prng.weighted(live)();
    if (action !== null) actions.push(action);
  }
  return actions;
}
