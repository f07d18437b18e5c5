/**
 * The instrumented copy of a module that the snapshot runs its initializer
 * in: the same module with read-back access to every piece of state, and its
 * start function exported instead of run at instantiation (so imported state
 * can be read between instantiation and start).
 *
 * ```
 *   original                      instrumented copy
 *   type     [t0 .. tn)   ──────► [t0 .. tn) + () → ()  () → i32  () → i64
 *   function [f0 .. fm)   ──────► [f0 .. fm) + global readers + segment probes
 *   table    [..]         ──────► [..] + probe tables (only when no table fits)
 *   export   [..]         ──────► [..] + memory 0, every function, table, mutable global,
 *                                        reader and probe under reserved names
 *   start    f            ──────► (removed; exported as __cowpool_snapshot_start)
 *   code     [..]         ──────► [..] + reader and probe bodies
 *   others                ──────► copied byte for byte
 * ```
 * Appending keeps every existing index (types, functions, tables) valid.
 * Readers return a global's exact bits: f32/f64 reinterpreted as integers, a
 * v128 as its two i64 lanes. A probe runs `memory.init`/`table.init` of 0
 * items at offset = the segment's length: it traps iff the segment was dropped.
 */
import { ByteWriter } from '../wasm/byte-writer.js';
import type { ExternKind, ModuleInfo } from '../wasm/module-info.js';
import { SECTION_ID, type SectionSpan } from '../wasm/module-sections.js';
import { editSections, vectorContent, vectorEntries } from '../wasm/section-edit.js';

export const SNAPSHOT_EXPORT_PREFIX = '__cowpool_snapshot_';

/** How the value of one mutable global is read back. */
export type GlobalReader =
  | { via: 'bits'; valtype: 'i32' | 'i64' | 'f32' | 'f64' | 'v128'; /** One reader, or two (v128 lanes 0 and 1). */ exports: string[] }
  | { via: 'global'; valtype: 'funcref' | 'externref'; exportName: string };

export interface Instrumentation {
  bytes: Uint8Array;
  /** Export of memory 0 when the module defines it; null when it imports it or has none. */
  memoryExport: string | null;
  /** Export of the start function; null without one. */
  startExport: string | null;
  /** Export name of every function, by function index. */
  functionExports: string[];
  /** Every mutable global (imported or defined), by global index. */
  globalReaders: Map<number, GlobalReader>;
  /** Every table (imported or defined), by table index. */
  tableExports: Map<number, string>;
  /** Passive data segments a probe can tell dropped from kept, by segment index. */
  dataProbes: Map<number, string>;
  /** Passive element segments, by segment index. */
  elementProbes: Map<number, string>;
  /** The original module's export names (what the initializer is shown). */
  originalExports: string[];
}

const KIND_BYTE: Record<ExternKind, number> = { function: 0, table: 1, memory: 2, global: 3, tag: 4 };
const REF_TYPE_BYTE: Record<string, number> = { funcref: 0x70, externref: 0x6f };

/** A function body with no locals. */
function body(instrs: number[] | Uint8Array): Uint8Array {
  const code = new ByteWriter(instrs.length + 2).u8(0).bytes(Uint8Array.from(instrs)).u8(0x0b).finish();
  return new ByteWriter(code.length + 5).u32(code.length).bytes(code).finish();
}

/** Builds the instrumented copy. `info` must be the parse of `bytes`. */
export function instrumentModule(bytes: Uint8Array, info: ModuleInfo): Instrumentation {
  const taken = new Set(info.exports.map((e) => e.name));
  const reserve = (base: string): string => {
    let name = `${SNAPSHOT_EXPORT_PREFIX}${base}`;
    for (let n = 1; taken.has(name); n++) name = `${SNAPSHOT_EXPORT_PREFIX}${base}_${n}`;
    taken.add(name);
    return name;
  };
  const find = (id: number): SectionSpan | undefined => info.sections.find((s) => s.id === id);
  const exports: Uint8Array[] = [];
  const addExport = (name: string, kind: ExternKind, index: number): void => {
    exports.push(new ByteWriter(name.length + 8).name(name).u8(KIND_BYTE[kind]).u32(index).finish());
  };

  const typeVec = vectorEntries(bytes, find(SECTION_ID.type));
  const T_VOID = info.typeCount;
  const T_I32 = info.typeCount + 1;
  const T_I64 = info.typeCount + 2;
  const newTypes = [
    Uint8Array.of(0x60, 0x00, 0x00),
    Uint8Array.of(0x60, 0x00, 0x01, 0x7f),
    Uint8Array.of(0x60, 0x00, 0x01, 0x7e),
  ];

  const functionCount = info.functions.imported + info.functions.defined;
  const newFunctionTypes: number[] = [];
  const newBodies: Uint8Array[] = [];
  const addFunction = (type: number, instrs: number[]): number => {
    newFunctionTypes.push(type);
    newBodies.push(body(instrs));
    return functionCount + newFunctionTypes.length - 1;
  };
  const u32 = (v: number): number[] => [...new ByteWriter(5).u32(v).finish()];
  const s32 = (v: number): number[] => [...new ByteWriter(5).s32(v).finish()];

  // Memory 0, start, functions.
  let memoryExport: string | null = null;
  const memory = info.memories[0];
  if (memory !== undefined && !memory.imported) {
    memoryExport = reserve('memory');
    addExport(memoryExport, 'memory', 0);
  }
  let startExport: string | null = null;
  if (info.start !== null) {
    startExport = reserve('start');
    addExport(startExport, 'function', info.start);
  }
  const functionExports: string[] = [];
  for (let f = 0; f < functionCount; f++) {
    const name = reserve(`func_${f}`);
    functionExports.push(name);
    addExport(name, 'function', f);
  }

  // Tables.
  const tableExports = new Map<number, string>();
  for (const t of info.tables) {
    const name = reserve(`table_${t.index}`);
    tableExports.set(t.index, name);
    addExport(name, 'table', t.index);
  }

  // Globals.
  const globalReaders = new Map<number, GlobalReader>();
  for (const g of info.globals) {
    if (!g.mutable) continue;
    if (g.valtype === 'funcref' || g.valtype === 'externref') {
      const name = reserve(`global_${g.index}`);
      addExport(name, 'global', g.index);
      globalReaders.set(g.index, { via: 'global', valtype: g.valtype, exportName: name });
      continue;
    }
    const get = [0x23, ...u32(g.index)];
    const readers: { type: number; instrs: number[] }[] =
      g.valtype === 'i32' ? [{ type: T_I32, instrs: get }]
      : g.valtype === 'i64' ? [{ type: T_I64, instrs: get }]
      : g.valtype === 'f32' ? [{ type: T_I32, instrs: [...get, 0xbc] }]
      : g.valtype === 'f64' ? [{ type: T_I64, instrs: [...get, 0xbd] }]
      // i64x2.extract_lane is 0xfd 29, then the lane.
      : [{ type: T_I64, instrs: [...get, 0xfd, 0x1d, 0] }, { type: T_I64, instrs: [...get, 0xfd, 0x1d, 1] }];
    const names = readers.map((r, lane) => {
      const name = reserve(`global_${g.index}${readers.length > 1 ? `_lane${lane}` : ''}`);
      addExport(name, 'function', addFunction(r.type, r.instrs));
      return name;
    });
    globalReaders.set(g.index, { via: 'bits', valtype: g.valtype as 'i32', exports: names });
  }

  // Segment probes. memory.init needs the data count section; without it no
  // instruction can name a data segment, so nothing can have dropped one.
  const dataProbes = new Map<number, string>();
  if (info.dataCount !== null && memory !== undefined) {
    for (const d of info.data) {
      if (d.mode !== 'passive' || d.dataLength === 0) continue;
      const name = reserve(`data_${d.index}`);
      // memory.init d=0 s=len n=0: in bounds unless the segment is now empty.
      addExport(name, 'function', addFunction(T_VOID, [0x41, 0, 0x41, ...s32(d.dataLength), 0x41, 0, 0xfc, 8, ...u32(d.index), 0]));
      dataProbes.set(d.index, name);
    }
  }
  const elementProbes = new Map<number, string>();
  const probeTables = new Map<string, number>();
  const extraTables: Uint8Array[] = [];
  const tableFor = (elemType: string): number | null => {
    const existing = info.tables.find((t) => t.elemType === elemType);
    if (existing !== undefined) return existing.index;
    const byte = REF_TYPE_BYTE[elemType];
    if (byte === undefined) return null;
    let index = probeTables.get(elemType);
    if (index === undefined) {
      index = info.tables.length + extraTables.length;
      extraTables.push(Uint8Array.of(byte, 0x00, 0x00));
      probeTables.set(elemType, index);
    }
    return index;
  };
  for (const e of info.elements) {
    if (e.mode !== 'passive' || e.length === 0) continue;
    const table = tableFor(e.elemType);
    if (table === null) continue; // checked when captured: such a segment is refused
    const name = reserve(`elem_${e.index}`);
    addExport(name, 'function', addFunction(T_VOID, [0x41, 0, 0x41, ...s32(e.length), 0x41, 0, 0xfc, 12, ...u32(e.index), ...u32(table)]));
    elementProbes.set(e.index, name);
  }

  const functionVec = vectorEntries(bytes, find(SECTION_ID.function));
  const codeVec = vectorEntries(bytes, find(SECTION_ID.code));
  const exportVec = vectorEntries(bytes, find(SECTION_ID.export));
  const edits: Parameters<typeof editSections>[2] = {
    [SECTION_ID.type]: vectorContent(typeVec.count + newTypes.length, [typeVec.entries, ...newTypes]),
    [SECTION_ID.export]: vectorContent(exportVec.count + exports.length, [exportVec.entries, ...exports]),
    [SECTION_ID.start]: null,
  };
  if (newBodies.length > 0) {
    const w = new ByteWriter(newFunctionTypes.length * 2);
    for (const t of newFunctionTypes) w.u32(t);
    edits[SECTION_ID.function] = vectorContent(functionVec.count + newFunctionTypes.length, [functionVec.entries, w.finish()]);
    edits[SECTION_ID.code] = vectorContent(codeVec.count + newBodies.length, [codeVec.entries, ...newBodies]);
  }
  if (extraTables.length > 0) {
    const tableVec = vectorEntries(bytes, find(SECTION_ID.table));
    edits[SECTION_ID.table] = vectorContent(tableVec.count + extraTables.length, [tableVec.entries, ...extraTables]);
  }
  return {
    bytes: editSections(bytes, info.sections, edits),
    memoryExport,
    startExport,
    functionExports,
    globalReaders,
    tableExports,
    dataProbes,
    elementProbes,
    originalExports: info.exports.map((e) => e.name),
  };
}
