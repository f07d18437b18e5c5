/**
 * The bench's own modules, generated from code so the package carries no
 * binary blobs. Each one isolates a cost the strategies handle differently:
 *
 * - `data-1mib`:    16 pages, one 1 MiB active data segment (dense image).
 *                   fresh copies 1 MiB per instance; cow maps it.
 * - `sparse-16mib`: 256 pages, 64 bytes at every MiB (image 16 MiB long,
 *                   16 pages of it non-zero). fresh allocates 16 MiB; cow
 *                   maps a mostly-empty image.
 * - `table-20k`:    a 20,000-entry funcref table filled by one element
 *                   segment, and 16 pages of memory without data. Table
 *                   initialisation dominates; memory strategies barely matter.
 *
 * Every module exports `memory` and a no-op `noop`.
 */
import { ByteWriter } from '../wasm/byte-writer.js';

export const SYNTHETIC_MODULES = ['data-1mib', 'sparse-16mib', 'table-20k'] as const;
export type SyntheticModuleName = (typeof SYNTHETIC_MODULES)[number];

const KiB = 1024;
const MiB = 1024 * KiB;
const WASM_PAGE = 64 * KiB;

const SECTION = { type: 1, function: 3, table: 4, memory: 5, export: 7, element: 9, code: 10, data: 11 } as const;
const OP = { end: 0x0b, i32Const: 0x41, drop: 0x1a } as const;
const EXPORT_KIND = { function: 0, table: 1, memory: 2 } as const;

function content(build: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  build(w);
  return w.finish();
}

/** `i32.const value; end` — a constant offset expression (value < 2^31). */
function i32ConstExpr(w: ByteWriter, value: number): void {
  // Signed LEB128 of a non-negative value: unsigned LEB plus a clear sign bit in the last byte.
  const bytes: number[] = [];
  let v = value;
  for (;;) {
    const low = v & 0x7f;
    v = Math.floor(v / 128);
    const done = v === 0 && (low & 0x40) === 0;
    bytes.push(done ? low : low | 0x80);
    if (done) break;
  }
  w.u8(OP.i32Const).bytes(Uint8Array.from(bytes)).u8(OP.end);
}

interface ModuleSpec {
  memoryPages: number;
  /** Functions of type [] -> [], each with the given body (without the locals vector). The first is exported as `noop`. */
  functionBodies: Uint8Array[];
  table?: { entries: number; funcIndices: number[] };
  data: { offset: number; bytes: Uint8Array }[];
}

function encodeModule(spec: ModuleSpec): Uint8Array {
  const w = new ByteWriter(spec.data.reduce((n, d) => n + d.bytes.length, 1024));
  w.bytes(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
  // One type: () -> ().
  w.section(SECTION.type, content((s) => s.u32(1).u8(0x60).u32(0).u32(0)));
  w.section(SECTION.function, content((s) => {
    s.u32(spec.functionBodies.length);
    for (let i = 0; i < spec.functionBodies.length; i++) s.u32(0);
  }));
  if (spec.table !== undefined) {
    const entries = spec.table.entries;
    // funcref, limits with a maximum equal to the minimum.
    w.section(SECTION.table, content((s) => s.u32(1).u8(0x70).u8(0x01).u32(entries).u32(entries)));
  }
  // Memory 0 may grow to 4 times its initial size, like a typical module's headroom.
  w.section(SECTION.memory, content((s) => s.u32(1).u8(0x01).u32(spec.memoryPages).u32(spec.memoryPages * 4)));
  w.section(SECTION.export, content((s) => {
    s.u32(2);
    s.name('memory').u8(EXPORT_KIND.memory).u32(0);
    s.name('noop').u8(EXPORT_KIND.function).u32(0);
  }));
  if (spec.table !== undefined) {
    const indices = spec.table.funcIndices;
    w.section(SECTION.element, content((s) => {
      s.u32(1).u32(0);
      i32ConstExpr(s, 0);
      s.u32(indices.length);
      for (const index of indices) s.u32(index);
    }));
  }
  w.section(SECTION.code, content((s) => {
    s.u32(spec.functionBodies.length);
    for (const body of spec.functionBodies) {
      // No locals, then the instructions.
      s.u32(body.length + 1).u32(0).bytes(body);
    }
  }));
  if (spec.data.length > 0) {
    w.section(SECTION.data, content((s) => {
      s.u32(spec.data.length);
      for (const segment of spec.data) {
        s.u32(0);
        i32ConstExpr(s, segment.offset);
        s.u32(segment.bytes.length).bytes(segment.bytes);
      }
    }));
  }
  return w.finish();
}

/** Non-zero bytes, so no page of the image is mistaken for a zero page. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ((i * 31 + seed) & 0xff) | 1;
  return out;
}

const NOOP_BODY = Uint8Array.of(OP.end);

/** The bytes of the bundled synthetic module `name`. */
export function syntheticModule(name: SyntheticModuleName): Uint8Array {
  switch (name) {
    case 'data-1mib':
      return encodeModule({ memoryPages: MiB / WASM_PAGE, functionBodies: [NOOP_BODY], data: [{ offset: 0, bytes: pattern(MiB, 7) }] });
    case 'sparse-16mib': {
      const chunk = 64;
      // One chunk at the start of every MiB, the last one ending the 16th MiB so the image spans all 16.
      const data = Array.from({ length: 16 }, (_, k) => ({ offset: k === 15 ? 16 * MiB - chunk : k * MiB, bytes: pattern(chunk, k) }));
      return encodeModule({ memoryPages: (16 * MiB) / WASM_PAGE, functionBodies: [NOOP_BODY], data });
    }
    case 'table-20k': {
      const entries = 20_000;
      // Four distinct functions so the table is not one repeated value.
      const bodies = [NOOP_BODY, Uint8Array.of(OP.i32Const, 1, OP.drop, OP.end), Uint8Array.of(OP.i32Const, 2, OP.drop, OP.end), Uint8Array.of(OP.i32Const, 3, OP.drop, OP.end)];
      const funcIndices = Array.from({ length: entries }, (_, i) => i % bodies.length);
      return encodeModule({ memoryPages: MiB / WASM_PAGE, functionBodies: bodies, table: { entries, funcIndices }, data: [] });
    }
  }
}

/** One line saying what a synthetic module is, for reports. */
export function describeSyntheticModule(name: SyntheticModuleName): string {
  switch (name) {
    case 'data-1mib':
      return '1 MiB memory, filled by one 1 MiB data segment';
    case 'sparse-16mib':
      return '16 MiB memory, 64 bytes of data at every MiB';
    case 'table-20k':
      return '20,000-entry funcref table from one element segment, 1 MiB memory without data';
  }
}
