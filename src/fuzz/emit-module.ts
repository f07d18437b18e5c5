/**
 * Turns a ModuleShape into a WebAssembly binary whose exports let a tenant do
 * everything the isolation fuzzer tries and let an observer read every piece
 * of instance state:
 *
 *   mem                       memory 0 (when the shape has one)
 *   g<i>, t<i>                every global and table
 *   f<k>() -> 1000+k          the functions tables hold
 *   store8|16|32(a, v), store64(a, v:i64), load8(a), load32(a), size(), grow(n)
 *   fill(a, v, n), copy(d, s, n), trapwrite(a, n, v)   stores n bytes then traps
 *   init<k>(d, s, n), drop<k>()                       memory.init / data.drop of segment k
 *   gget<i>(), gset<i>(v)                             (gset only for mutable globals)
 *   tset<t>_<k>(i), tnull<t>(i), tgrow<t>(n), tcall<t>(i)
 *
 * A start function (not exported) stores one byte and may set an i32 global.
 */
import { funcId, type ModuleShape, type NumType, type NumValue } from './module-shape.js';
import {
  body, byteVec, EXPORT_KIND, f32, f64, funcType, i32ConstExpr, limits, memarg, module, name, OP, s32, s64, SECTION,
  section, u32, vec, VALTYPE, type Bytes,
} from './wasm-encoder.js';

interface FuncDef {
  /** Export name; null for the start function. */
  name: string | null;
  params: number[];
  results: number[];
  locals: [number, number][];
  code: Bytes;
}

const { i32, i64 } = VALTYPE;

function constInstr(type: NumType, value: NumValue): Bytes {
  switch (type) {
    case 'i32':
      return [OP.i32Const, ...s32(Number(value))];
    case 'i64':
      return [OP.i64Const, ...s64(BigInt(value))];
    case 'f32':
      return [OP.f32Const, ...f32(Number(value))];
    case 'f64':
      return [OP.f64Const, ...f64(Number(value))];
  }
}

const fc = (op: number, ...imm: Bytes): Bytes => [OP.prefixFc, ...u32(op), ...imm];
const get = (i: number): Bytes => [OP.localGet, ...u32(i)];

function memoryFunctions(shape: ModuleShape): FuncDef[] {
  const fns: FuncDef[] = [
    { name: 'store8', params: [i32, i32], results: [], locals: [], code: [...get(0), ...get(1), OP.i32Store8, ...memarg(0)] },
    { name: 'store16', params: [i32, i32], results: [], locals: [], code: [...get(0), ...get(1), OP.i32Store16, ...memarg(1)] },
    { name: 'store32', params: [i32, i32], results: [], locals: [], code: [...get(0), ...get(1), OP.i32Store, ...memarg(2)] },
    { name: 'store64', params: [i32, i64], results: [], locals: [], code: [...get(0), ...get(1), OP.i64Store, ...memarg(3)] },
    { name: 'load8', params: [i32], results: [i32], locals: [], code: [...get(0), OP.i32Load8U, ...memarg(0)] },
    { name: 'load32', params: [i32], results: [i32], locals: [], code: [...get(0), OP.i32Load, ...memarg(2)] },
    { name: 'size', params: [], results: [i32], locals: [], code: [OP.memorySize, 0x00] },
    { name: 'grow', params: [i32], results: [i32], locals: [], code: [...get(0), OP.memoryGrow, 0x00] },
    { name: 'fill', params: [i32, i32, i32], results: [], locals: [], code: [...get(0), ...get(1), ...get(2), ...fc(OP.memoryFill, 0x00)] },
    { name: 'copy', params: [i32, i32, i32], results: [], locals: [], code: [...get(0), ...get(1), ...get(2), ...fc(OP.memoryCopy, 0x00, 0x00)] },
    {
      // for (i = 0; i < n; i++) mem[a + i] = v; unreachable — a trap after (or, out of bounds, during) a write.
      name: 'trapwrite',
      params: [i32, i32, i32],
      results: [],
      locals: [[1, i32]],
      code: [
        OP.block, OP.void,
        OP.loop, OP.void,
        ...get(3), ...get(1), OP.i32GeU, OP.brIf, ...u32(1),
        ...get(0), ...get(3), OP.i32Add, ...get(2), OP.i32Store8, ...memarg(0),
        ...get(3), OP.i32Const, ...s32(1), OP.i32Add, OP.localSet, ...u32(3),
        OP.br, ...u32(0),
        OP.end,
        OP.end,
        OP.unreachable,
      ],
    },
  ];
  for (let k = 0; k < shape.data.length; k++) {
    fns.push({ name: `init${k}`, params: [i32, i32, i32], results: [], locals: [], code: [...get(0), ...get(1), ...get(2), ...fc(OP.memoryInit, ...u32(k), 0x00)] });
    fns.push({ name: `drop${k}`, params: [], results: [], locals: [], code: fc(OP.dataDrop, ...u32(k)) });
  }
  return fns;
}

function globalFunctions(shape: ModuleShape): FuncDef[] {
  const fns: FuncDef[] = [];
  for (const [i, g] of shape.globals.entries()) {
    const t = VALTYPE[g.type];
    fns.push({ name: `gget${i}`, params: [], results: [t], locals: [], code: [OP.globalGet, ...u32(i)] });
    if (g.mutable) fns.push({ name: `gset${i}`, params: [t], results: [], locals: [], code: [...get(0), OP.globalSet, ...u32(i)] });
  }
  return fns;
}

function tableFunctions(shape: ModuleShape): FuncDef[] {
  const fns: FuncDef[] = [];
  for (let t = 0; t < shape.tables.length; t++) {
    for (let k = 0; k < shape.funcCount; k++) {
      // ref.func is valid because every f<k> is exported (declared by the export section).
      fns.push({ name: `tset${t}_${k}`, params: [i32], results: [], locals: [], code: [...get(0), OP.refFunc, ...u32(k), OP.tableSet, ...u32(t)] });
    }
    fns.push({ name: `tnull${t}`, params: [i32], results: [], locals: [], code: [...get(0), OP.refNull, VALTYPE.funcref, OP.tableSet, ...u32(t)] });
    fns.push({ name: `tgrow${t}`, params: [i32], results: [i32], locals: [], code: [OP.refNull, VALTYPE.funcref, ...get(0), ...fc(OP.tableGrow, ...u32(t))] });
    // Type 0 is () -> i32, the type of every f<k> (see typeIndex: it is registered first).
    fns.push({ name: `tcall${t}`, params: [i32], results: [i32], locals: [], code: [...get(0), OP.callIndirect, ...u32(0), ...u32(t)] });
  }
  return fns;
}

function startFunction(shape: ModuleShape): FuncDef | null {
  const s = shape.start;
  if (s === null) return null;
  const code: Bytes = [OP.i32Const, ...s32(s.address), OP.i32Const, ...s32(s.value), OP.i32Store8, ...memarg(0)];
  if (s.global !== null) code.push(OP.i32Const, ...s32(s.value), OP.globalSet, ...u32(s.global));
  return { name: null, params: [], results: [], locals: [], code };
}

/** The binary for `shape`. Always valid for an engine with bulk memory and reference types. */
export function emitModule(shape: ModuleShape): Uint8Array {
  const fns: FuncDef[] = [];
  for (let k = 0; k < shape.funcCount; k++) {
    fns.push({ name: `f${k}`, params: [], results: [i32], locals: [], code: [OP.i32Const, ...s32(funcId(k))] });
  }
  if (shape.memory !== null) fns.push(...memoryFunctions(shape));
  fns.push(...globalFunctions(shape), ...tableFunctions(shape));
  const start = startFunction(shape);
  if (start !== null) fns.push(start);

  const types: Bytes[] = [];
  const typeKeys = new Map<string, number>();
  const typeIndex = (params: number[], results: number[]): number => {
    const key = `${params.join(',')}>${results.join(',')}`;
    let index = typeKeys.get(key);
    if (index === undefined) {
      index = types.length;
      types.push(funcType(params, results));
      typeKeys.set(key, index);
    }
    return index;
  };
  typeIndex([], [i32]);
  const funcTypes = fns.map((f) => typeIndex(f.params, f.results));

  const sections: Bytes[] = [
    section(SECTION.type, vec(types)),
    section(SECTION.function, vec(funcTypes.map((t) => u32(t)))),
  ];
  if (shape.tables.length > 0) {
    sections.push(section(SECTION.table, vec(shape.tables.map((t) => [VALTYPE.funcref, ...limits(t.min, t.max)]))));
  }
  if (shape.memory !== null) {
    sections.push(section(SECTION.memory, vec([limits(shape.memory.minPages, shape.memory.maxPages)])));
  }
  if (shape.globals.length > 0) {
    sections.push(section(SECTION.global, vec(shape.globals.map((g) => [VALTYPE[g.type], g.mutable ? 1 : 0, ...constInstr(g.type, g.init), OP.end]))));
  }
  const exports: Bytes[] = [];
  if (shape.memory !== null) exports.push([...name('mem'), EXPORT_KIND.memory, ...u32(0)]);
  shape.globals.forEach((_, i) => exports.push([...name(`g${i}`), EXPORT_KIND.global, ...u32(i)]));
  shape.tables.forEach((_, i) => exports.push([...name(`t${i}`), EXPORT_KIND.table, ...u32(i)]));
  fns.forEach((f, i) => {
    if (f.name !== null) exports.push([...name(f.name), EXPORT_KIND.function, ...u32(i)]);
  });
  sections.push(section(SECTION.export, vec(exports)));
  if (start !== null) sections.push(section(SECTION.start, u32(fns.length - 1)));
  if (shape.elems.length > 0) {
    sections.push(section(SECTION.element, vec(shape.elems.map((e) => {
      const funcs = vec(e.funcs.map((k) => u32(k)));
      // Flag 0 is "active, table 0, funcref"; flag 2 names the table and the element kind (0x00: funcref).
      return e.table === 0 ? [0x00, ...i32ConstExpr(e.offset), ...funcs] : [0x02, ...u32(e.table), ...i32ConstExpr(e.offset), 0x00, ...funcs];
    }))));
  }
  // memory.init and data.drop need the data count section.
  if (shape.data.length > 0) sections.push(section(SECTION.dataCount, u32(shape.data.length)));
  sections.push(section(SECTION.code, vec(fns.map((f) => body(f.locals, f.code)))));
  if (shape.data.length > 0) {
    sections.push(section(SECTION.data, vec(shape.data.map((d) => (d.mode === 'active' ? [0x00, ...i32ConstExpr(d.offset), ...byteVec(d.bytes)] : [0x01, ...byteVec(d.bytes)])))));
  }
  return module(sections);
}
