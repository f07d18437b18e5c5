/**
 * Emits the snapshot module: the original module rewritten so that a plain
 * instantiation yields the captured state, and nothing runs at instantiation.
 *
 * ```
 *   original                          snapshot module
 *   import  memory (min m)  ────────► memory (min = pages now, max unchanged)
 *   table   (min t)         ────────► (min = length now, max unchanged)
 *   memory  (min m)         ────────► (min = pages now, max unchanged)
 *   global  mut g = expr    ────────► mut g = const (exact bits of the value now)
 *   start   f               ────────► (removed)
 *   element active on a defined table ► declarative (same items: still declares its functions)
 *           active on an imported table ► unchanged (tenants' tables get it at instantiation)
 *           passive, dropped ───────► passive, empty        passive kept, declarative ► unchanged
 *           + one active segment per run of non-null entries of each defined table
 *   data    active          ────────► active, empty, at 0   (dropped after instantiation, as before)
 *           passive, dropped ───────► passive, empty        passive kept ► unchanged
 *           + one active segment per run of non-zero 4 KiB pages of memory 0
 *   data count              ────────► the new segment count
 *   others, custom          ────────► copied byte for byte
 * ```
 * Segment indices below the original counts keep their meaning, so every
 * `memory.init`, `data.drop`, `table.init` and `elem.drop` in the code still
 * refers to the segment it named.
 */
import { ByteWriter } from '../wasm/byte-writer.js';
import type { Limits, ModuleInfo } from '../wasm/module-info.js';
import { SECTION_ID } from '../wasm/module-sections.js';
import { editSections, vectorContent, vectorEntries, type SectionEdits } from '../wasm/section-edit.js';
import type { CapturedState, CapturedValue } from './captured-state.js';
import { definedTableEntries } from './snapshot-shape.js';

/** Granularity at which runs of zero bytes are left out of the data segments. */
export const SNAPSHOT_CHUNK_BYTES = 4096;
/** V8 accepts at most 100 000 data segments; memory runs stay well below. */
const MAX_MEMORY_SEGMENTS = 20_000;

export interface MemoryRun {
  offset: number;
  length: number;
}

/** Runs of `chunk`-byte blocks holding a non-zero byte, merged when adjacent. */
export function nonZeroRuns(bytes: Uint8Array, chunk: number = SNAPSHOT_CHUNK_BYTES): MemoryRun[] {
  let size = chunk;
  for (;;) {
    const runs: MemoryRun[] = [];
    // Whole 32-bit words when the view allows it, bytes otherwise.
    const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4)) : null;
    for (let offset = 0; offset < bytes.length; offset += size) {
      const end = Math.min(bytes.length, offset + size);
      let nonZero = false;
      if (words !== null && offset % 4 === 0 && end % 4 === 0) {
        for (let w = offset / 4; w < end / 4; w++) if (words[w] !== 0) { nonZero = true; break; }
      } else {
        for (let i = offset; i < end; i++) if (bytes[i] !== 0) { nonZero = true; break; }
      }
      if (!nonZero) continue;
      const last = runs[runs.length - 1];
      if (last !== undefined && last.offset + last.length === offset) last.length += end - offset;
      else runs.push({ offset, length: end - offset });
    }
    if (runs.length <= MAX_MEMORY_SEGMENTS) return runs;
    size *= 2;
  }
}

function encodeLimits(limits: Limits, initial: number): Uint8Array {
  const w = new ByteWriter(12).u8((limits.maximum !== null ? 1 : 0) | (limits.shared ? 2 : 0)).u32(initial);
  if (limits.maximum !== null) w.u32(limits.maximum);
  return w.finish();
}

/** A constant expression producing `value` exactly. */
export function constExpr(value: CapturedValue): Uint8Array {
  const w = new ByteWriter(24);
  switch (value.valtype) {
    case 'i32':
      w.u8(0x41).s32(value.value);
      break;
    case 'i64':
      w.u8(0x42).s64(BigInt.asIntN(64, value.value));
      break;
    case 'f32': {
      const bits = new Uint8Array(4);
      new DataView(bits.buffer).setUint32(0, value.bits >>> 0, true);
      w.u8(0x43).bytes(bits);
      break;
    }
    case 'f64': {
      const bits = new Uint8Array(8);
      new DataView(bits.buffer).setBigUint64(0, BigInt.asUintN(64, value.bits), true);
      w.u8(0x44).bytes(bits);
      break;
    }
    case 'v128': {
      const bits = new Uint8Array(16);
      const view = new DataView(bits.buffer);
      view.setBigUint64(0, BigInt.asUintN(64, value.lanes[0]), true);
      view.setBigUint64(8, BigInt.asUintN(64, value.lanes[1]), true);
      w.u8(0xfd).u32(12).bytes(bits);
      break;
    }
    case 'funcref':
      if (value.func === null) w.u8(0xd0).u8(0x70);
      else w.u8(0xd2).u32(value.func);
      break;
    case 'externref':
      w.u8(0xd0).u8(0x6f);
      break;
  }
  return w.u8(0x0b).finish();
}

/** The snapshot module's bytes. `info` must be the parse of `bytes`; `state` its captured state. */
export function emitSnapshotModule(bytes: Uint8Array, info: ModuleInfo, state: CapturedState, moduleName: string): Uint8Array {
  const find = (id: number) => info.sections.find((s) => s.id === id);
  const edits: SectionEdits = { [SECTION_ID.start]: null };
  const memory0 = info.memories[0];
  const pages = state.memory?.pages ?? 0;

  // Memory 0 at its size now.
  if (memory0 !== undefined && state.memory !== null) {
    const limits = encodeLimits(memory0.limits, pages);
    if (memory0.imported) {
      const parts = info.imports.map((entry) => {
        if (entry.kind !== 'memory' || entry.index !== 0) return bytes.subarray(entry.start, entry.end);
        return new ByteWriter(64).bytes(bytes.subarray(entry.start, memory0.limits.start)).bytes(limits).bytes(bytes.subarray(memory0.limits.end, entry.end)).finish();
      });
      edits[SECTION_ID.import] = vectorContent(info.imports.length, parts);
    } else {
      edits[SECTION_ID.memory] = vectorContent(1, [limits]);
    }
  }

  // Defined tables at their length now.
  const tableTypes = definedTableEntries(bytes, info, moduleName);
  if (tableTypes.length > 0) {
    edits[SECTION_ID.table] = vectorContent(tableTypes.length, tableTypes.map((entry) => {
      const t = info.tables[entry.index]!;
      const length = state.tables.get(entry.index)?.length ?? t.limits.initial;
      return new ByteWriter(16).bytes(entry.typeBytes).bytes(encodeLimits(t.limits, length)).finish();
    }));
  }

  // Defined globals: mutable ones get a constant initialiser.
  const defined = info.globals.filter((g) => !g.imported);
  if (defined.length > 0) {
    const span = find(SECTION_ID.global)!;
    let at = span.end - vectorEntries(bytes, span).entries.length;
    const parts = defined.map((g) => {
      const init = g.init!;
      const entryStart = at;
      at = init.end;
      const value = state.globals.get(g.index);
      if (value === undefined) return bytes.subarray(entryStart, init.end);
      return new ByteWriter(32).bytes(bytes.subarray(entryStart, init.start)).bytes(constExpr(value)).finish();
    });
    edits[SECTION_ID.global] = vectorContent(defined.length, parts);
  }

  // Element segments.
  const elementParts: Uint8Array[] = [];
  for (const e of info.elements) {
    const original = bytes.subarray(e.start, e.end);
    const flags = bytes[e.start]!; // flags are 0..7: one LEB byte
    if (e.mode === 'active' && !info.tables[e.tableIndex!]!.imported) {
      const payload = bytes.subarray(e.offsetExpr!.end, e.end);
      // 0: funcidx (implicit funcref); 2: elemkind + funcidx; 4: exprs (implicit funcref); 6: reftype + exprs.
      const prefix = flags === 0 ? [0x03, 0x00] : flags === 2 ? [0x03] : flags === 4 ? [0x07, 0x70] : [0x07];
      elementParts.push(new ByteWriter(payload.length + 2).bytes(Uint8Array.from(prefix)).bytes(payload).finish());
    } else if (e.mode === 'passive' && state.droppedElements.has(e.index)) {
      elementParts.push(new ByteWriter(8).bytes(bytes.subarray(e.start, e.itemsStart)).u32(0).finish());
    } else {
      elementParts.push(original);
    }
  }
  for (const [table, entries] of state.tables) {
    for (let i = 0; i < entries.length;) {
      if (entries[i] === null) { i++; continue; }
      let j = i;
      while (j < entries.length && entries[j] !== null) j++;
      const w = new ByteWriter(16 + (j - i) * 3).u8(0x02).u32(table).u8(0x41).s32(i).u8(0x0b).u8(0x00).u32(j - i);
      for (let k = i; k < j; k++) w.u32(entries[k]!);
      elementParts.push(w.finish());
      i = j;
    }
  }
  if (elementParts.length > 0) edits[SECTION_ID.element] = vectorContent(elementParts.length, elementParts);

  // Data segments.
  const dataParts: Uint8Array[] = [];
  for (const d of info.data) {
    if (d.mode === 'active') dataParts.push(Uint8Array.of(0x00, 0x41, 0x00, 0x0b, 0x00));
    else if (state.droppedData.has(d.index)) dataParts.push(Uint8Array.of(0x01, 0x00));
    else dataParts.push(bytes.subarray(d.start, d.dataStart + d.dataLength));
  }
  if (state.memory !== null) {
    for (const run of nonZeroRuns(state.memory.bytes)) {
      dataParts.push(new ByteWriter(run.length + 16).u8(0x00).u8(0x41).s32(run.offset).u8(0x0b)
        .u32(run.length).bytes(state.memory.bytes.subarray(run.offset, run.offset + run.length)).finish());
    }
  }
  if (dataParts.length > 0) edits[SECTION_ID.data] = vectorContent(dataParts.length, dataParts);
  if (info.dataCount !== null) edits[SECTION_ID.dataCount] = new ByteWriter(5).u32(dataParts.length).finish();

  return editSections(bytes, info.sections, edits);
}
