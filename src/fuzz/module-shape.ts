/**
 * What a generated module looks like, and a seeded generator of shapes that
 * lean towards the corners isolation bugs live in: memories of 0 pages,
 * maximum equal to the minimum, images of zeros, segments that overlap, touch
 * the end of memory or fall just outside it, passive segments, mutable
 * globals of every number type, tables with and without elements, and start
 * functions that write memory.
 *
 * A shape is data only; `emitModule` turns it into a binary.
 */
import type { Prng } from './prng.js';

export const FUZZ_PAGE = 65536;

export type NumType = 'i32' | 'i64' | 'f32' | 'f64';
export type NumValue = number | bigint;

export interface FuzzMemory {
  minPages: number;
  /** null: no declared maximum. */
  maxPages: number | null;
}

export type FuzzDataSegment =
  | { mode: 'active'; offset: number; bytes: Uint8Array }
  | { mode: 'passive'; bytes: Uint8Array };

export interface FuzzGlobal {
  type: NumType;
  mutable: boolean;
  init: NumValue;
}

export interface FuzzTable {
  min: number;
  max: number | null;
}

export interface FuzzElemSegment {
  table: number;
  offset: number;
  /** Indices of the `f<k>` functions placed from `offset`. */
  funcs: number[];
}

/** The start function stores `value` at `address` and, when `global` is set, writes `value` into that i32 global. */
export interface FuzzStart {
  address: number;
  value: number;
  global: number | null;
}

export interface ModuleShape {
  memory: FuzzMemory | null;
  data: FuzzDataSegment[];
  globals: FuzzGlobal[];
  tables: FuzzTable[];
  elems: FuzzElemSegment[];
  /** Functions `f0..f<n-1>`; `f<k>` returns 1000 + k (how table entries are told apart). */
  funcCount: number;
  start: FuzzStart | null;
}

/** The value `f<k>` returns. */
export function funcId(k: number): number {
  return 1000 + k;
}

function memoryShape(prng: Prng): FuzzMemory | null {
  if (prng.chance(0.04)) return null;
  const minPages = prng.weighted<number>([
    [20, 0],
    [40, 1],
    [28, prng.int(2, 4)],
    [12, prng.int(16, 20)],
  ]);
  const maxPages = prng.weighted<number | null>([
    [40, null],
    [20, minPages],
    [40, minPages + prng.int(1, 4)],
  ]);
  return { minPages, maxPages };
}

function segmentBytes(prng: Prng, room: number): Uint8Array {
  const length = Math.min(
    room,
    prng.weighted<number>([
      [10, 0],
      [55, prng.int(1, 64)],
      [28, prng.int(65, 9000)],
      [7, prng.int(9001, 70_000)],
    ]),
  );
  return prng.weighted<() => Uint8Array>([
    [60, () => prng.bytes(length)],
    [25, () => new Uint8Array(length).fill(prng.int(1, 255))],
    // A segment of zeros: an image with nothing but zeros in it.
    [15, () => new Uint8Array(length)],
  ])();
}

function dataSegments(prng: Prng, memory: FuzzMemory | null): FuzzDataSegment[] {
  const count = prng.weighted<number>([
    [15, 0],
    [50, prng.int(1, 3)],
    [35, prng.int(4, 7)],
  ]);
  const memBytes = (memory?.minPages ?? 0) * FUZZ_PAGE;
  const out: FuzzDataSegment[] = [];
  for (let i = 0; i < count; i++) {
    // Passive segments are legal without a memory only when unused; the module always has helpers using them, so require one.
    if (memory === null) break;
    if (prng.chance(0.25)) {
      out.push({ mode: 'passive', bytes: segmentBytes(prng, 9000) });
      continue;
    }
    let previous: FuzzDataSegment | undefined;
    for (const s of out) if (s.mode === 'active') previous = s;
    const bytes = segmentBytes(prng, Math.max(memBytes, 0));
    const length = bytes.length;
    const offset = prng.weighted<() => number>([
      [20, () => 0],
      [30, () => prng.int(0, Math.max(0, memBytes - length))],
      // Overlap the previous active segment: later segments win, as in V8.
      [20, () => (previous?.mode === 'active' ? Math.max(0, Math.min(memBytes - length, previous.offset + prng.int(-length, previous.bytes.length))) : 0)],
      // Right against the end of the initial memory, or against a 4 KiB page boundary.
      [15, () => Math.max(0, memBytes - length)],
      [12, () => Math.max(0, Math.min(memBytes - length, 4096 * prng.int(1, 16) - prng.int(0, 3)))],
      // Just past the end: instantiation traps (V8 and the pool must agree).
      [3, () => memBytes - length + prng.int(1, 8)],
    ])();
    out.push({ mode: 'active', offset: Math.max(0, offset), bytes });
  }
  return out;
}

function globalValue(prng: Prng, type: NumType): NumValue {
  switch (type) {
    case 'i32':
      return prng.pick([0, 1, -1, 0x7fff_ffff, -0x8000_0000, prng.u32() | 0]);
    case 'i64':
      return prng.pick([0n, -1n, 0x7fff_ffff_ffff_ffffn, BigInt.asIntN(64, (BigInt(prng.u32()) << 32n) | BigInt(prng.u32()))]);
    case 'f32':
      return prng.pick([0, -0, 1.5, Math.fround(prng.float() * 1e6 - 5e5)]);
    case 'f64':
      return prng.pick([0, -0, Number.MAX_VALUE, prng.float() * 1e12 - 5e11]);
  }
}

export function randomModuleShape(prng: Prng): ModuleShape {
  const memory = memoryShape(prng);
  const data = dataSegments(prng, memory);
  const globals: FuzzGlobal[] = [];
  for (let i = prng.int(0, 4); i > 0; i--) {
    const type = prng.pick<NumType>(['i32', 'i64', 'f32', 'f64']);
    globals.push({ type, mutable: prng.chance(0.75), init: globalValue(prng, type) });
  }
  const funcCount = prng.int(1, 5);
  const tables: FuzzTable[] = [];
  for (let i = prng.weighted<number>([[30, 0], [50, 1], [20, 2]]); i > 0; i--) {
    const min = prng.int(0, 6);
    tables.push({ min, max: prng.chance(0.5) ? null : min + prng.int(0, 4) });
  }
  const elems: FuzzElemSegment[] = [];
  for (const [t, table] of tables.entries()) {
    for (let i = prng.int(0, 2); i > 0; i--) {
      const length = prng.int(0, Math.min(4, table.min));
      const funcs = Array.from({ length }, () => prng.int(0, funcCount - 1));
      // Rarely one element past the end: instantiation traps.
      const offset = prng.chance(0.03) ? table.min - length + 1 : prng.int(0, table.min - length);
      elems.push({ table: t, offset, funcs });
    }
  }
  let start: FuzzStart | null = null;
  if (memory !== null && prng.chance(0.15)) {
    const memBytes = memory.minPages * FUZZ_PAGE;
    const i32Global = globals.findIndex((g) => g.type === 'i32' && g.mutable);
    start = {
      // A 0-page memory makes every start function trap; keep those rare.
      address: memBytes === 0 ? (prng.chance(0.2) ? 0 : -1) : prng.chance(0.03) ? memBytes : prng.int(0, memBytes - 1),
      value: prng.int(1, 255),
      global: i32Global >= 0 && prng.chance(0.6) ? i32Global : null,
    };
    if (start.address < 0) start = null;
  }
  return { memory, data, globals, tables, elems, funcCount, start };
}

/** One line describing a shape, for failure reports. */
export function describeShape(shape: ModuleShape): string {
  const mem = shape.memory === null ? 'no memory' : `memory ${shape.memory.minPages}..${shape.memory.maxPages ?? '∞'} pages`;
  const data = shape.data.map((s) => (s.mode === 'active' ? `active@${s.offset}+${s.bytes.length}` : `passive+${s.bytes.length}`));
  const globals = shape.globals.map((g) => `${g.mutable ? 'mut ' : ''}${g.type}`);
  const tables = shape.tables.map((t) => `${t.min}..${t.max ?? '∞'}`);
  return `${mem}; data [${data.join(', ')}]; globals [${globals.join(', ')}]; tables [${tables.join(', ')}]; ` +
    `elems ${shape.elems.length}; funcs ${shape.funcCount}; start ${shape.start === null ? 'none' : `store@${shape.start.address}`}`;
}
