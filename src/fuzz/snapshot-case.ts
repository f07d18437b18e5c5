/**
 * A snapshot fuzz case: a random module with a random start function, a
 * random initializer and a random "scribble" a tenant runs, as data, and its
 * binary. The programs write and grow memory, set globals (NaN payloads
 * included), set and grow tables, copy from and drop passive data and element
 * segments, and call into an import; a program may trap, and then the
 * snapshot must fail where the plain instance traps.
 *
 * Built with the fuzzer's own encoder (src/fuzz/wasm-encoder.ts), never with
 * src/wasm, so a bug in the code under test cannot hide in the modules.
 *
 * Function index space:
 *   0 env.note (i32) → i32 · f0..f(n-1) () → i32 returning 1000+k · start? · init · scribble ·
 *   one getter per global · one probe per passive data segment · one per passive element segment
 */
import type { Prng } from './prng.js';
import {
  body, byteVec, EXPORT_KIND, funcType, i32ConstExpr, limits, memarg, module, name, OP, s32, s64, section, SECTION, u32, VALTYPE, vec,
  type Bytes,
} from './wasm-encoder.js';

export const SNAPSHOT_PAGE = 65536;

type GlobalType = 'i32' | 'i64' | 'f32' | 'f64' | 'funcref';

export interface SnapshotGlobal {
  type: GlobalType;
  /** Initial bits: i32 number, i64/f64 bigint bits, f32 number bits, funcref function index or null. */
  init: number | bigint | null;
}

export type ProgramOp =
  | { op: 'store'; width: 8 | 32 | 64; address: number; value: bigint }
  | { op: 'fill'; address: number; value: number; length: number }
  | { op: 'grow'; pages: number }
  | { op: 'global'; index: number; value: number | bigint | null }
  | { op: 'tableSet'; table: number; index: number; func: number | null }
  | { op: 'tableGrow'; table: number; func: number | null; count: number }
  | { op: 'memoryInit'; segment: number; address: number; length: number }
  | { op: 'dataDrop'; segment: number }
  | { op: 'tableInit'; table: number; segment: number; index: number; length: number }
  | { op: 'elemDrop'; segment: number }
  | { op: 'note'; value: number; address: number };

export interface SnapshotCase {
  seed: number;
  memory: { imported: boolean; min: number; max: number | null } | null;
  globals: SnapshotGlobal[];
  tables: { min: number; max: number | null }[];
  funcCount: number;
  activeData: { offset: number; bytes: Uint8Array }[];
  passiveData: Uint8Array[];
  activeElems: { table: number; offset: number; funcs: number[] }[];
  /** Function indices (0 = the import) of each passive element segment. */
  passiveElems: number[][];
  start: ProgramOp[] | null;
  init: ProgramOp[];
  /** Host code after `init`: write these bytes into memory from JS (null: the `export` initializer). */
  hostWrite: { address: number; bytes: Uint8Array } | null;
  scribble: ProgramOp[];
}

/** `note(x)` in the import: what both the reference and every tenant are given. */
export function note(x: number): number {
  return (Math.imul(x, 3) + 1) | 0;
}

function program(prng: Prng, c: Omit<SnapshotCase, 'start' | 'init' | 'scribble' | 'hostWrite' | 'seed'>, pagesNow: { pages: number }, length: number): ProgramOp[] {
  const ops: ProgramOp[] = [];
  const tableSizes = c.tables.map((t) => t.min);
  const address = (width: number): number => {
    const bytes = pagesNow.pages * SNAPSHOT_PAGE;
    // Now and then anywhere in the next page: past the end traps.
    if (prng.chance(0.01) || bytes < width) return prng.int(0, bytes + SNAPSHOT_PAGE);
    return prng.int(0, bytes - width);
  };
  const func = (): number | null => (prng.chance(0.2) ? null : prng.int(0, c.funcCount));
  const droppedData = new Set<number>();
  const droppedElems = new Set<number>();
  for (let i = 0; i < length; i++) {
    // An empty memory traps on every access: mostly grow it first.
    const choices: [number, ProgramOp['op']][] = [
      [c.memory === null ? 0 : 6, 'store'], [c.memory === null ? 0 : 2, 'fill'], [c.memory === null ? 0 : 1.5, 'grow'],
      [c.globals.length === 0 ? 0 : 4, 'global'],
      [c.tables.length === 0 ? 0 : 2, 'tableSet'], [c.tables.length === 0 ? 0 : 1, 'tableGrow'],
      [c.passiveData.length === 0 || c.memory === null ? 0 : 1.5, 'memoryInit'], [c.passiveData.length === 0 ? 0 : 1, 'dataDrop'],
      [c.passiveElems.length === 0 || c.tables.length === 0 ? 0 : 1.5, 'tableInit'], [c.passiveElems.length === 0 ? 0 : 1.5, 'elemDrop'],
      [c.memory === null ? 0 : 1, 'note'],
    ];
    // A module with no memory, globals or tables gives a program nothing to do.
    if (choices.every(([weight]) => weight === 0)) break;
    const kind = c.memory !== null && pagesNow.pages === 0 && prng.chance(0.7) ? 'grow' : prng.weighted(choices);
    switch (kind) {
      case 'store': {
        const width = prng.pick([8, 32, 64] as const);
        ops.push({ op: 'store', width, address: address(width / 8), value: BigInt.asIntN(64, (BigInt(prng.u32()) << 32n) | BigInt(prng.u32())) });
        break;
      }
      case 'fill': {
        const length = prng.int(1, prng.chance(0.2) ? 70_000 : 300);
        ops.push({ op: 'fill', address: address(length), value: prng.int(0, 255), length });
        break;
      }
      case 'grow': {
        const pages = prng.int(pagesNow.pages === 0 ? 1 : 0, 2);
        const max = c.memory!.max ?? 16;
        if (pagesNow.pages + pages <= max) pagesNow.pages += pages;
        ops.push({ op: 'grow', pages });
        break;
      }
      case 'global': {
        const index = prng.int(0, c.globals.length - 1);
        ops.push({ op: 'global', index, value: randomValue(prng, c.globals[index]!.type, c.funcCount) });
        break;
      }
      case 'tableSet': {
        const table = prng.int(0, c.tables.length - 1);
        ops.push({ op: 'tableSet', table, index: prng.int(0, Math.max(0, tableSizes[table]! + (prng.chance(0.05) ? 1 : 0) - 1)), func: func() });
        break;
      }
      case 'tableGrow': {
        const table = prng.int(0, c.tables.length - 1);
        const count = prng.int(0, 3);
        const max = c.tables[table]!.max ?? 64;
        if (tableSizes[table]! + count <= max) tableSizes[table] = tableSizes[table]! + count;
        ops.push({ op: 'tableGrow', table, func: func(), count });
        break;
      }
      case 'memoryInit': {
        const segment = prng.int(0, c.passiveData.length - 1);
        // Copying from a dropped segment traps; now and then is enough.
        if (droppedData.has(segment) && prng.chance(0.9)) continue;
        const length = prng.int(0, c.passiveData[segment]!.length);
        ops.push({ op: 'memoryInit', segment, address: address(length), length });
        break;
      }
      case 'dataDrop': {
        const segment = prng.int(0, c.passiveData.length - 1);
        droppedData.add(segment);
        ops.push({ op: 'dataDrop', segment });
        break;
      }
      case 'tableInit': {
        const table = prng.int(0, c.tables.length - 1);
        const segment = prng.int(0, c.passiveElems.length - 1);
        if (droppedElems.has(segment) && prng.chance(0.9)) continue;
        const length = prng.int(0, c.passiveElems[segment]!.length);
        ops.push({ op: 'tableInit', table, segment, index: prng.int(0, Math.max(0, tableSizes[table]! - length)), length });
        break;
      }
      case 'elemDrop': {
        const segment = prng.int(0, c.passiveElems.length - 1);
        droppedElems.add(segment);
        ops.push({ op: 'elemDrop', segment });
        break;
      }
      case 'note':
        ops.push({ op: 'note', value: prng.int(-1000, 1000), address: address(4) });
        break;
    }
  }
  return ops;
}

/** Bits for a global of `type`: NaNs with payloads for floats now and then. */
function randomValue(prng: Prng, type: GlobalType, funcCount: number): number | bigint | null {
  switch (type) {
    case 'i32':
      return prng.u32() | 0;
    case 'i64':
      return BigInt.asIntN(64, (BigInt(prng.u32()) << 32n) | BigInt(prng.u32()));
    case 'f32':
      return prng.chance(0.3) ? (0x7f800000 | prng.int(1, 0x7fffff)) | 0 : prng.u32() | 0;
    case 'f64':
      return prng.chance(0.3) ? BigInt.asIntN(64, 0x7ff0000000000000n | BigInt(prng.int(1, 0xfffffff))) : BigInt.asIntN(64, (BigInt(prng.u32()) << 32n) | BigInt(prng.u32()));
    case 'funcref':
      return prng.chance(0.25) ? null : prng.int(0, funcCount);
  }
}

/** A case from `prng` (the seed is recorded for replays). */
export function generateSnapshotCase(seed: number, prng: Prng): SnapshotCase {
  const hasMemory = prng.chance(0.9);
  const min = prng.weighted([[1, 0], [4, 1], [2, 2], [1, 3]]);
  const memory = hasMemory ? { imported: prng.chance(0.3), min, max: prng.chance(0.4) ? null : min + prng.int(0, 5) } : null;
  const globals: SnapshotGlobal[] = [];
  const funcCount = prng.int(1, 5);
  for (let i = prng.int(0, 6); i > 0; i--) {
    const type = prng.pick<GlobalType>(['i32', 'i64', 'f32', 'f64', 'funcref']);
    globals.push({ type, init: randomValue(prng, type, funcCount) });
  }
  const tables = Array.from({ length: prng.int(0, 2) }, () => {
    const tmin = prng.int(0, 4);
    return { min: tmin, max: prng.chance(0.5) ? null : tmin + prng.int(0, 6) };
  });
  const activeData = memory === null || memory.min === 0 ? [] : Array.from({ length: prng.int(0, 3) }, () => {
    const bytes = prng.bytes(prng.int(0, 64));
    return { offset: prng.int(0, memory.min * SNAPSHOT_PAGE - bytes.length), bytes };
  });
  const passiveData = Array.from({ length: prng.int(0, 3) }, () => prng.bytes(prng.int(0, 40)));
  const activeElems = tables.flatMap((t, table) => (t.min === 0 || prng.chance(0.4) ? [] : [(() => {
    const count = prng.int(1, t.min);
    return { table, offset: prng.int(0, t.min - count), funcs: Array.from({ length: count }, () => prng.int(1, funcCount)) };
  })()]));
  const passiveElems = tables.length === 0 ? [] : Array.from({ length: prng.int(0, 2) }, () => Array.from({ length: prng.int(0, 4) }, () => prng.int(0, funcCount)));
  const shape = { memory, globals, tables, funcCount, activeData, passiveData, activeElems, passiveElems };
  const pages = { pages: memory?.min ?? 0 };
  const start = prng.chance(0.6) ? program(prng, shape, pages, prng.int(1, 6)) : null;
  const init = program(prng, shape, pages, prng.int(1, 14));
  const hostWrite = memory !== null && prng.chance(0.3) && pages.pages > 0
    ? (() => { const bytes = prng.bytes(prng.int(1, 300)); return { address: prng.int(0, pages.pages * SNAPSHOT_PAGE - bytes.length), bytes }; })()
    : null;
  const scribble = program(prng, shape, { pages: pages.pages }, prng.int(1, 12));
  return { seed, ...shape, start, init, hostWrite, scribble };
}

const T_NOTE = 0; // (i32) → i32
const T_VOID = 1; // () → ()
const T_I32 = 2; // () → i32
const T_I64 = 3; // () → i64
const T_FUNCREF = 4; // () → funcref

function refExpr(func: number | null): Bytes {
  return func === null ? [OP.refNull, VALTYPE.funcref] : [OP.refFunc, ...u32(func)];
}

function floatBits(value: number | bigint, bytes: 4 | 8): Bytes {
  const view = new DataView(new ArrayBuffer(bytes));
  if (bytes === 4) view.setUint32(0, Number(value) >>> 0, true);
  else view.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
  return [...new Uint8Array(view.buffer)];
}

function globalValue(type: GlobalType, value: number | bigint | null): Bytes {
  switch (type) {
    case 'i32': return [OP.i32Const, ...s32(Number(value))];
    case 'i64': return [OP.i64Const, ...s64(BigInt(value as bigint))];
    case 'f32': return [OP.f32Const, ...floatBits(value as number, 4)];
    case 'f64': return [OP.f64Const, ...floatBits(value as bigint, 8)];
    case 'funcref': return refExpr(value as number | null);
  }
}

function code(c: SnapshotCase, ops: readonly ProgramOp[]): Bytes {
  const out: Bytes = [];
  const i32 = (v: number): Bytes => [OP.i32Const, ...s32(v)];
  for (const o of ops) {
    switch (o.op) {
      case 'store':
        if (o.width === 64) out.push(...i32(o.address), OP.i64Const, ...s64(o.value), OP.i64Store, ...memarg(3));
        else out.push(...i32(o.address), ...i32(Number(BigInt.asIntN(32, o.value))), o.width === 8 ? OP.i32Store8 : OP.i32Store, ...memarg(o.width === 8 ? 0 : 2));
        break;
      case 'fill':
        out.push(...i32(o.address), ...i32(o.value), ...i32(o.length), OP.prefixFc, ...u32(OP.memoryFill), 0x00);
        break;
      case 'grow':
        out.push(...i32(o.pages), OP.memoryGrow, 0x00, OP.drop);
        break;
      case 'global':
        out.push(...globalValue(c.globals[o.index]!.type, o.value), OP.globalSet, ...u32(o.index));
        break;
      case 'tableSet':
        out.push(...i32(o.index), ...refExpr(o.func), OP.tableSet, ...u32(o.table));
        break;
      case 'tableGrow':
        out.push(...refExpr(o.func), ...i32(o.count), OP.prefixFc, ...u32(OP.tableGrow), ...u32(o.table), OP.drop);
        break;
      case 'memoryInit':
        out.push(...i32(o.address), ...i32(0), ...i32(o.length), OP.prefixFc, ...u32(OP.memoryInit), ...u32(o.segment), 0x00);
        break;
      case 'dataDrop':
        out.push(OP.prefixFc, ...u32(OP.dataDrop), ...u32(o.segment));
        break;
      case 'tableInit':
        out.push(...i32(o.index), ...i32(0), ...i32(o.length), OP.prefixFc, ...u32(12), ...u32(o.segment), ...u32(o.table));
        break;
      case 'elemDrop':
        out.push(OP.prefixFc, ...u32(13), ...u32(o.segment));
        break;
      case 'note':
        out.push(...i32(o.address), ...i32(o.value), OP.call, ...u32(0), OP.i32Store, ...memarg(2));
        break;
    }
  }
  return out;
}

/** Export names the observation reads: `mem`, `t<i>`, `g<i>` getters, `pd<i>` / `pe<i>` probes. */
export function emitSnapshotCase(c: SnapshotCase): Uint8Array {
  const funcs: { type: number; body: Bytes; export?: string }[] = [];
  for (let k = 0; k < c.funcCount; k++) funcs.push({ type: T_I32, body: body([], [OP.i32Const, ...s32(1000 + k)]) });
  const firstDefined = 1;
  const startIndex = c.start === null ? null : firstDefined + funcs.length;
  if (c.start !== null) funcs.push({ type: T_VOID, body: body([], code(c, c.start)) });
  funcs.push({ type: T_VOID, body: body([], code(c, c.init)), export: 'init' });
  funcs.push({ type: T_VOID, body: body([], code(c, c.scribble)), export: 'scribble' });
  c.globals.forEach((g, i) => {
    const get = [OP.globalGet, ...u32(i)];
    const [type, instrs] = g.type === 'i32' ? [T_I32, get]
      : g.type === 'i64' ? [T_I64, get]
      : g.type === 'f32' ? [T_I32, [...get, 0xbc]]
      : g.type === 'f64' ? [T_I64, [...get, 0xbd]]
      : [T_FUNCREF, get];
    funcs.push({ type: type as number, body: body([], instrs as Bytes), export: `g${i}` });
  });
  if (c.memory !== null) {
    c.passiveData.forEach((d, i) => {
      funcs.push({ type: T_VOID, body: body([], [OP.i32Const, 0, OP.i32Const, ...s32(d.length), OP.i32Const, 0, OP.prefixFc, ...u32(OP.memoryInit), ...u32(i), 0x00]), export: `pd${i}` });
    });
  }
  if (c.tables.length > 0) {
    c.passiveElems.forEach((e, i) => {
      funcs.push({ type: T_VOID, body: body([], [OP.i32Const, 0, OP.i32Const, ...s32(e.length), OP.i32Const, 0, OP.prefixFc, ...u32(12), ...u32(i), 0x00]), export: `pe${i}` });
    });
  }

  const types = [funcType([VALTYPE.i32], [VALTYPE.i32]), funcType([], []), funcType([], [VALTYPE.i32]), funcType([], [VALTYPE.i64]), funcType([], [VALTYPE.funcref])];
  const imports: Bytes[] = [[...name('env'), ...name('note'), 0x00, ...u32(T_NOTE)]];
  if (c.memory?.imported === true) imports.push([...name('env'), ...name('memory'), 0x02, ...limits(c.memory.min, c.memory.max)]);
  const sections: Bytes[] = [
    section(SECTION.type, vec(types)),
    section(SECTION.import, vec(imports)),
    section(SECTION.function, vec(funcs.map((f) => u32(f.type)))),
  ];
  if (c.tables.length > 0) sections.push(section(SECTION.table, vec(c.tables.map((t) => [VALTYPE.funcref, ...limits(t.min, t.max)]))));
  if (c.memory !== null && !c.memory.imported) sections.push(section(SECTION.memory, vec([limits(c.memory.min, c.memory.max)])));
  if (c.globals.length > 0) {
    sections.push(section(SECTION.global, vec(c.globals.map((g) => [g.type === 'funcref' ? VALTYPE.funcref : VALTYPE[g.type], 0x01, ...globalValue(g.type, g.init), OP.end]))));
  }
  const exports: Bytes[] = [];
  if (c.memory !== null) exports.push([...name('mem'), EXPORT_KIND.memory, 0]);
  c.tables.forEach((_, i) => exports.push([...name(`t${i}`), EXPORT_KIND.table, ...u32(i)]));
  funcs.forEach((f, i) => {
    if (f.export !== undefined) exports.push([...name(f.export), EXPORT_KIND.function, ...u32(firstDefined + i)]);
  });
  sections.push(section(SECTION.export, vec(exports)));
  if (startIndex !== null) sections.push(section(SECTION.start, u32(startIndex)));
  const allFuncs = Array.from({ length: c.funcCount + 1 }, (_, i) => u32(i));
  const elems: Bytes[] = [
    ...c.activeElems.map((e) => [0x02, ...u32(e.table), ...i32ConstExpr(e.offset), 0x00, ...vec(e.funcs.map((f) => u32(f)))]),
    ...c.passiveElems.map((funcsOf) => [0x01, 0x00, ...vec(funcsOf.map((f) => u32(f)))]),
    // Declares every function (and the import) for ref.func.
    [0x03, 0x00, ...vec(allFuncs)],
  ];
  sections.push(section(SECTION.element, vec(elems)));
  const dataCount = c.activeData.length + c.passiveData.length;
  if (c.passiveData.length > 0 || dataCount > 0) sections.push(section(SECTION.dataCount, u32(c.memory === null ? c.passiveData.length : dataCount)));
  sections.push(section(SECTION.code, vec(funcs.map((f) => f.body))));
  const data: Bytes[] = [
    ...(c.memory === null ? [] : c.activeData.map((d) => [0x00, ...i32ConstExpr(d.offset), ...byteVec(d.bytes)])),
    ...c.passiveData.map((d) => [0x01, ...byteVec(d)]),
  ];
  if (data.length > 0) sections.push(section(SECTION.data, vec(data)));
  return module(sections);
}
