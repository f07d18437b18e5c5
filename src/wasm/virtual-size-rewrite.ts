/**
 * The virtual-size rewrite: a module whose memory may grow keeps its size in
 * a global of its own, so a pooled memory that an earlier tenant grew can be
 * handed to the next tenant at the module's initial size. The pages between
 * the virtual and the physical size are PROT_NONE (the slot keeps them so),
 * so a wasm access there traps exactly as V8's guard pages make it trap.
 *
 * ```
 *   memory 0 (imported from the slot)
 *   |<-- virtual size: $vsize pages, read-write -->|<-- PROT_NONE -->|<-- V8's guard -->
 *   |<--------------- physical size (memory.buffer.byteLength) ------>|
 *
 *   original                          rewritten
 *   memory.size                 ────► global.get $vsize
 *   memory.grow                 ────► call $vgrow      (grows the physical memory only past its size)
 *   memory.fill / memory.copy   ────► call $vfill / $vcopy   (bounds against $vsize, then the op)
 *   memory.init k               ────► call $vinit_k
 *   import  [.., cowpool.memory] ───► [.., cowpool.memory, cowpool.unprotect]  (func import, appended)
 *   every function index f >= imported functions ──► f + 1   (calls, ref.func, elements, exports, start)
 *   global  [..] ───────────────────► [.., $vsize (mut i32) = initial pages]    (appended: no index moves)
 *   export  [..] ───────────────────► [.., __cowpool_vsize, __cowpool_vgrow]  (JS reads the size and grows through $vgrow)
 *   custom "name", "metadata.code.*" ► (dropped: their function indices and code offsets would be stale)
 * ```
 * `memory.fill`, `memory.copy` and `memory.init` are guarded because V8 checks
 * them against the physical size and performs them in C++: a write into a
 * PROT_NONE page there would not be a trap but a crash. A guard that fails
 * traps with an access V8 knows is out of bounds, so the message is V8's own
 * ("memory access out of bounds").
 *
 * `cowpool.unprotect(fromPage, toPage)` is called by `$vgrow` only when the
 * tenant grows back into pages an earlier tenant's growth left PROT_NONE.
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { readConstExpr } from './const-expr.js';
import { scanInstructions, skipValueType, UnsupportedInstruction, type InstructionSite } from './instruction-scan.js';
import type { ModuleInfo } from './module-info.js';
import { SECTION_ID, type SectionSpan } from './module-sections.js';
import { editSections, vectorContent, vectorEntries, type SectionEdits } from './section-edit.js';

export const VSIZE_EXPORT = '__cowpool_vsize';
export const VGROW_EXPORT = '__cowpool_vgrow';
export const UNPROTECT_IMPORT_MODULE = 'cowpool';
export const UNPROTECT_IMPORT_NAME = 'unprotect';
/** Pages a 32-bit memory can have. */
const MAX_PAGES_32 = 65536;

export interface VirtualSizeLayout {
  /** The export holding the virtual size in pages (a mutable i32 global). */
  vsizeExport: string;
  /** The export of `$vgrow`, so `Memory#grow` from JS takes the same path as `memory.grow`. */
  vgrowExport: string;
  /** The function import the slot fills with its unprotect function. */
  unprotectImport: { module: string; name: string };
  /** The module's initial and largest page counts (the bound `$vgrow` enforces). */
  initialPages: number;
  maximumPages: number;
}

export type VirtualSizeResult =
  | { ok: true; bytes: Uint8Array; layout: VirtualSizeLayout }
  | { ok: false; detail: string };

const I32 = 0x7f;
const OP = {
  end: 0x0b, if: 0x04, return: 0x0f, call: 0x10, select: 0x1b, drop: 0x1a, unreachable: 0x00,
  localGet: 0x20, localSet: 0x21, globalGet: 0x23, globalSet: 0x24,
  i32Load: 0x28, memorySize: 0x3f, memoryGrow: 0x40, i32Const: 0x41, i64Const: 0x42,
  i32Eq: 0x46, i32LtU: 0x49, i32GtU: 0x4b, i64GtU: 0x56, i32And: 0x71, i32Add: 0x6a, i32Sub: 0x6b,
  i64Add: 0x7c, i64Shl: 0x86, i64ExtendI32U: 0xad, blockEmpty: 0x40, prefixFC: 0xfc,
} as const;

/** Copies `[start, end)` with each site's bytes replaced by `replace(site)` (null keeps them). */
function patch(bytes: Uint8Array, start: number, end: number, sites: readonly InstructionSite[], replace: (s: InstructionSite) => Uint8Array | null, w: ByteWriter): void {
  let at = start;
  for (const site of sites) {
    const replacement = replace(site);
    if (replacement === null) continue;
    w.bytes(bytes.subarray(at, site.at)).bytes(replacement);
    at = site.end;
  }
  w.bytes(bytes.subarray(at, end));
}

function encode(build: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(16);
  build(w);
  return w.finish();
}

/** Traps as an out-of-bounds access: an i32 load past any 32-bit memory. */
function emitTrap(w: ByteWriter): void {
  w.u8(OP.i32Const).s32(0).u8(OP.i32Load).u32(2).u32(0xffff_ffff).u8(OP.drop).u8(OP.unreachable);
}

/** `if (u64(local a) + u64(local n) > u64($vsize) << 16) trap` */
function emitBoundsCheck(w: ByteWriter, a: number, n: number, vsize: number): void {
  w.u8(OP.localGet).u32(a).u8(OP.i64ExtendI32U).u8(OP.localGet).u32(n).u8(OP.i64ExtendI32U).u8(OP.i64Add);
  w.u8(OP.globalGet).u32(vsize).u8(OP.i64ExtendI32U).u8(OP.i64Const).s64(16n).u8(OP.i64Shl).u8(OP.i64GtU);
  w.u8(OP.if).u8(OP.blockEmpty);
  emitTrap(w);
  w.u8(OP.end);
}

function body(locals: readonly (readonly [number, number])[], code: (w: ByteWriter) => void): Uint8Array {
  const inner = new ByteWriter(64).u32(locals.length);
  for (const [n, t] of locals) inner.u32(n).u8(t);
  code(inner);
  inner.u8(OP.end);
  const content = inner.finish();
  return new ByteWriter(content.length + 5).u32(content.length).bytes(content).finish();
}

/** `$vgrow(delta) -> old`: the virtual `memory.grow`. Locals: 1 old, 2 new, 3 physical. */
function vgrowBody(vsize: number, unprotect: number, maximumPages: number): Uint8Array {
  return body([[3, I32]], (w) => {
    w.u8(OP.globalGet).u32(vsize).u8(OP.localSet).u32(1);
    // Past the module's maximum: -1, as memory.grow answers.
    w.u8(OP.localGet).u32(1).u8(OP.i64ExtendI32U).u8(OP.localGet).u32(0).u8(OP.i64ExtendI32U).u8(OP.i64Add);
    w.u8(OP.i64Const).s64(BigInt(maximumPages)).u8(OP.i64GtU);
    w.u8(OP.if).u8(OP.blockEmpty).u8(OP.i32Const).s32(-1).u8(OP.return).u8(OP.end);
    w.u8(OP.localGet).u32(1).u8(OP.localGet).u32(0).u8(OP.i32Add).u8(OP.localSet).u32(2);
    w.u8(OP.memorySize).u8(0).u8(OP.localSet).u32(3);
    // Past the physical size: grow the memory itself (V8 makes those pages read-write).
    w.u8(OP.localGet).u32(2).u8(OP.localGet).u32(3).u8(OP.i32GtU);
    w.u8(OP.if).u8(OP.blockEmpty);
    w.u8(OP.localGet).u32(2).u8(OP.localGet).u32(3).u8(OP.i32Sub).u8(OP.memoryGrow).u8(0).u8(OP.i32Const).s32(-1).u8(OP.i32Eq);
    w.u8(OP.if).u8(OP.blockEmpty).u8(OP.i32Const).s32(-1).u8(OP.return).u8(OP.end);
    w.u8(OP.end);
    // Pages [old, min(new, physical)) were left PROT_NONE by the slot: open them.
    w.u8(OP.localGet).u32(1).u8(OP.localGet).u32(3).u8(OP.i32LtU);
    w.u8(OP.localGet).u32(1).u8(OP.localGet).u32(2).u8(OP.i32LtU).u8(OP.i32And);
    w.u8(OP.if).u8(OP.blockEmpty);
    w.u8(OP.localGet).u32(1);
    w.u8(OP.localGet).u32(2).u8(OP.localGet).u32(3).u8(OP.localGet).u32(2).u8(OP.localGet).u32(3).u8(OP.i32LtU).u8(OP.select);
    w.u8(OP.call).u32(unprotect);
    w.u8(OP.end);
    w.u8(OP.localGet).u32(2).u8(OP.globalSet).u32(vsize);
    w.u8(OP.localGet).u32(1);
  });
}

/** A guarded bulk operation on (d, x, n): `checks` lists the (address, length) local pairs to bound. */
function bulkBody(vsize: number, checks: readonly (readonly [number, number])[], op: Uint8Array): Uint8Array {
  return body([], (w) => {
    for (const [a, n] of checks) emitBoundsCheck(w, a, n, vsize);
    w.u8(OP.localGet).u32(0).u8(OP.localGet).u32(1).u8(OP.localGet).u32(2).bytes(op);
  });
}

function freeName(info: ModuleInfo, module: string, base: string): string {
  const taken = new Set(info.imports.filter((i) => i.module === module).map((i) => i.name));
  let name = base;
  for (let n = 1; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

function freeExportName(info: ModuleInfo, base: string): string {
  const taken = new Set(info.exports.map((e) => e.name));
  let name = base;
  for (let n = 1; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

/**
 * Rewrites `bytes` (a module that imports its memory 0; `info` its parse)
 * to keep a virtual size. `{ ok: false }` when the module holds what the
 * rewrite does not decode; the module is then served as it is.
 */
export function rewriteVirtualSize(bytes: Uint8Array, info: ModuleInfo): VirtualSizeResult {
  const memory = info.memories[0];
  if (memory === undefined || info.memories.length !== 1 || !memory.imported) {
    return { ok: false, detail: 'the virtual-size rewrite needs exactly one memory, imported' };
  }
  try {
    return rewrite(bytes, info, memory.limits.initial, Math.min(memory.limits.maximum ?? MAX_PAGES_32, MAX_PAGES_32));
  } catch (e) {
    if (e instanceof UnsupportedInstruction) return { ok: false, detail: e.message };
    throw e;
  }
}

function rewrite(bytes: Uint8Array, info: ModuleInfo, initialPages: number, maximumPages: number): VirtualSizeResult {
  const find = (id: number): SectionSpan | undefined => info.sections.find((s) => s.id === id);
  const importedFuncs = info.functions.imported;
  const shift = (f: number): number => (f >= importedFuncs ? f + 1 : f);
  const unprotect = importedFuncs;
  const vsize = info.globals.length;
  const helperBase = importedFuncs + 1 + info.functions.defined;

  // Scan every body first: which helpers are needed, and any refusal, before writing.
  const code = find(SECTION_ID.code);
  const bodies: { start: number; end: number; codeStart: number; sites: InstructionSite[] }[] = [];
  if (code !== undefined) {
    const r = new ByteReader(bytes, code.contentStart, code.end, 'code section');
    const count = r.u32('function body count');
    for (let i = 0; i < count; i++) {
      const size = r.u32('function body size');
      const start = r.pos;
      const b = r.sub(size, 'function body', 'function body');
      const groups = b.u32('local groups');
      for (let g = 0; g < groups; g++) {
        b.u32('local count');
        skipValueType(b);
      }
      bodies.push({ start, end: start + size, codeStart: b.pos, sites: scanInstructions(bytes, b.pos, start + size) });
    }
  }
  const initSegments = new Set<number>();
  for (const b of bodies) for (const s of b.sites) if (s.kind === 'memory.init') initSegments.add(s.segment);

  // Helper functions, appended after every defined function (no index moves).
  const T_GROW = info.typeCount;
  const T_UNPROTECT = info.typeCount + 1;
  const T_BULK = info.typeCount + 2;
  const helpers: { type: number; body: Uint8Array }[] = [
    { type: T_GROW, body: vgrowBody(vsize, unprotect, maximumPages) },
    { type: T_BULK, body: bulkBody(vsize, [[0, 2]], encode((w) => w.u8(OP.prefixFC).u32(11).u32(0))) },
    { type: T_BULK, body: bulkBody(vsize, [[0, 2], [1, 2]], encode((w) => w.u8(OP.prefixFC).u32(10).u32(0).u32(0))) },
  ];
  const VGROW = helperBase;
  const VFILL = helperBase + 1;
  const VCOPY = helperBase + 2;
  const vinit = new Map<number, number>();
  for (const segment of [...initSegments].sort((a, b) => a - b)) {
    vinit.set(segment, helperBase + helpers.length);
    helpers.push({ type: T_BULK, body: bulkBody(vsize, [[0, 2]], encode((w) => w.u8(OP.prefixFC).u32(8).u32(segment).u32(0))) });
  }

  const replaceSite = (s: InstructionSite): Uint8Array | null => {
    switch (s.kind) {
      case 'memory.size':
        return encode((w) => w.u8(OP.globalGet).u32(vsize));
      case 'memory.grow':
        return encode((w) => w.u8(OP.call).u32(VGROW));
      case 'memory.fill':
        return encode((w) => w.u8(OP.call).u32(VFILL));
      case 'memory.copy':
        return encode((w) => w.u8(OP.call).u32(VCOPY));
      case 'memory.init':
        return encode((w) => w.u8(OP.call).u32(vinit.get(s.segment)!));
      case 'function-index':
        return s.func >= importedFuncs ? encode((w) => w.u8(s.opcode).u32(shift(s.func))) : null;
    }
  };
  const shiftConstExpr = (r: ByteReader, field: string, w: ByteWriter): void => {
    const expr = readConstExpr(r, field);
    patch(bytes, expr.start, expr.end, scanInstructions(bytes, expr.start, expr.end), replaceSite, w);
  };

  const edits: SectionEdits = {};

  // Types: three function types appended.
  {
    const { count, entries } = vectorEntries(bytes, find(SECTION_ID.type));
    const add = encode((w) => {
      w.u8(0x60).u32(1).u8(I32).u32(1).u8(I32);
      w.u8(0x60).u32(2).u8(I32).u8(I32).u32(0);
      w.u8(0x60).u32(3).u8(I32).u8(I32).u8(I32).u32(0);
    });
    edits[SECTION_ID.type] = vectorContent(count + 3, [entries, add]);
  }
  // Imports: the unprotect function appended.
  const unprotectName = freeName(info, UNPROTECT_IMPORT_MODULE, UNPROTECT_IMPORT_NAME);
  {
    const { count, entries } = vectorEntries(bytes, find(SECTION_ID.import));
    edits[SECTION_ID.import] = vectorContent(count + 1, [entries, encode((w) => w.name(UNPROTECT_IMPORT_MODULE).name(unprotectName).u8(0).u32(T_UNPROTECT))]);
  }
  // Functions: the helpers' types appended.
  {
    const { count, entries } = vectorEntries(bytes, find(SECTION_ID.function));
    edits[SECTION_ID.function] = vectorContent(count + helpers.length, [entries, encode((w) => helpers.forEach((h) => w.u32(h.type)))]);
  }
  // Globals: initialisers may name functions (ref.func); $vsize appended.
  {
    const span = find(SECTION_ID.global);
    const w = new ByteWriter(64);
    let count = 0;
    if (span !== undefined) {
      const r = new ByteReader(bytes, span.contentStart, span.end, 'global section');
      count = r.u32('global count');
      for (let i = 0; i < count; i++) {
        const typeStart = r.pos;
        skipValueType(r);
        r.u8('mutability');
        w.bytes(bytes.subarray(typeStart, r.pos));
        shiftConstExpr(r, `global ${i}`, w);
      }
    }
    w.u8(I32).u8(1).u8(OP.i32Const).s32(initialPages).u8(OP.end);
    edits[SECTION_ID.global] = vectorContent(count + 1, [w.finish()]);
  }
  // Exports: function indices shifted; $vsize exported.
  const vsizeExport = freeExportName(info, VSIZE_EXPORT);
  const vgrowExport = freeExportName(info, VGROW_EXPORT);
  {
    const w = new ByteWriter(64);
    for (const e of info.exports) {
      const kind = { function: 0, table: 1, memory: 2, global: 3, tag: 4 }[e.kind];
      w.name(e.name).u8(kind).u32(e.kind === 'function' ? shift(e.index) : e.index);
    }
    w.name(vsizeExport).u8(3).u32(vsize);
    w.name(vgrowExport).u8(0).u32(VGROW);
    edits[SECTION_ID.export] = vectorContent(info.exports.length + 2, [w.finish()]);
  }
  if (info.start !== null) edits[SECTION_ID.start] = encode((w) => w.u32(shift(info.start!)));
  // Elements: function indices and ref.func items shifted.
  const elementSpan = find(SECTION_ID.element);
  if (elementSpan !== undefined) {
    const w = new ByteWriter(elementSpan.end - elementSpan.contentStart + 64);
    w.u32(info.elements.length);
    for (const segment of info.elements) {
      const r = new ByteReader(bytes, segment.itemsStart, segment.end, 'element segment');
      w.bytes(bytes.subarray(segment.start, segment.itemsStart));
      const flags = new ByteReader(bytes, segment.start, segment.end, 'element segment').u32('flags');
      const n = r.u32('element count');
      w.u32(n);
      for (let i = 0; i < n; i++) {
        if ((flags & 0x04) !== 0) shiftConstExpr(r, `element ${i}`, w);
        else w.u32(shift(r.u32('function index')));
      }
    }
    edits[SECTION_ID.element] = w.finish();
  }
  // Code: every body patched; helper bodies appended.
  {
    const w = new ByteWriter((code === undefined ? 0 : code.end - code.contentStart) + 512);
    w.u32(bodies.length + helpers.length);
    for (const b of bodies) {
      const inner = new ByteWriter(b.end - b.start + 16);
      inner.bytes(bytes.subarray(b.start, b.codeStart));
      patch(bytes, b.codeStart, b.end, b.sites, replaceSite, inner);
      const content = inner.finish();
      w.u32(content.length).bytes(content);
    }
    for (const h of helpers) w.bytes(h.body);
    edits[SECTION_ID.code] = w.finish();
  }

  // Custom sections that name functions or code offsets would be stale: the
  // names, and code metadata such as branch hints. Others are kept.
  const kept = info.sections.filter((s) => {
    if (s.id !== SECTION_ID.custom) return true;
    const name = info.customSections.find((c) => c.start === s.start)?.name ?? '';
    return name !== 'name' && !name.startsWith('metadata.code.');
  });
  return {
    ok: true,
    bytes: editSections(bytes, kept, edits),
    layout: { vsizeExport, vgrowExport, unprotectImport: { module: UNPROTECT_IMPORT_MODULE, name: unprotectName }, initialPages, maximumPages },
  };
}
