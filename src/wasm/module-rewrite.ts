/**
 * The copy-on-write rewrite of a module binary:
 *
 * ```
 *   original                         rewritten
 *   type      ──────────────────────► type                       (bytes copied)
 *   import    [a, b] ───────────────► import [a, b, cowpool.memory]   (memory 0 appended last:
 *   function  ──────────────────────► function                    no function/table/global index moves)
 *   memory    [limits] ─────────────► (removed; its limits bytes move into the import)
 *   export    [..] ─────────────────► export [.., internals]      (only with extra exports)
 *   data      active (off, bytes) ──► active (off, "")            (same flags, memory, offset expr)
 *             passive (bytes) ──────► passive (bytes)
 *   others, custom ─────────────────► copied byte for byte, same order
 * ```
 * Segment counts and indices are unchanged, so the data count section and
 * every `memory.init` / `data.drop` immediate stay valid. A zero-length active
 * segment is dropped after instantiation like the original, and still checks
 * its offset against the memory.
 */
import { ok } from 'node:assert/strict';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import type { ExportInfo, ExternKind, Limits, ModuleInfo } from './module-info.js';
import { HEADER_LENGTH, SECTION_ID, sectionRank, type SectionSpan } from './module-sections.js';

export interface RewritePlan {
  /**
   * Turn the defined memory 0 into this import, appended after the existing
   * imports, with memory 0's limits bytes copied verbatim. Null when the
   * module already imports its memory (the import section stays as it is).
   */
  memoryImport: { module: string; name: string; limits: Limits } | null;
  /** Exports appended after the existing ones (names must be unused). */
  extraExports: readonly ExportInfo[];
}

const KIND_BYTE: Record<ExternKind, number> = { function: 0, table: 1, memory: 2, global: 3, tag: 4 };

/** The content of a vector section after its count, and that count. */
function vectorBody(bytes: Uint8Array, span: SectionSpan | undefined): { count: number; entries: Uint8Array } {
  if (span === undefined) return { count: 0, entries: new Uint8Array(0) };
  const r = new ByteReader(bytes, span.contentStart, span.end, 'section');
  const count = r.u32('entry count');
  return { count, entries: bytes.subarray(r.pos, span.end) };
}

function importSection(bytes: Uint8Array, span: SectionSpan | undefined, plan: RewritePlan): Uint8Array {
  const memory = plan.memoryImport;
  ok(memory !== null, 'the import section is rewritten only to add the memory import');
  const { count, entries } = vectorBody(bytes, span);
  return new ByteWriter(entries.length + 32)
    .u32(count + 1)
    .bytes(entries)
    .name(memory.module)
    .name(memory.name)
    .u8(KIND_BYTE.memory)
    .bytes(bytes.subarray(memory.limits.start, memory.limits.end))
    .finish();
}

function exportSection(bytes: Uint8Array, span: SectionSpan | undefined, extra: readonly ExportInfo[]): Uint8Array {
  const { count, entries } = vectorBody(bytes, span);
  const w = new ByteWriter(entries.length + 32 * extra.length).u32(count + extra.length).bytes(entries);
  for (const e of extra) w.name(e.name).u8(KIND_BYTE[e.kind]).u32(e.index);
  return w.finish();
}

function dataSection(bytes: Uint8Array, info: ModuleInfo): Uint8Array {
  const w = new ByteWriter(64 + 8 * info.data.length).u32(info.data.length);
  for (const segment of info.data) {
    if (segment.mode === 'active') {
      // Flags, memory index and offset expression as they were; the payload now lives in the image.
      w.bytes(bytes.subarray(segment.start, segment.lengthAt)).u32(0);
    } else {
      w.bytes(bytes.subarray(segment.start, segment.dataStart + segment.dataLength));
    }
  }
  return w.finish();
}

/** Produce the rewritten binary. `info` must be the parse of `bytes`. */
export function rewriteModule(bytes: Uint8Array, info: ModuleInfo, plan: RewritePlan): Uint8Array {
  const find = (id: number): SectionSpan | undefined => info.sections.find((s) => s.id === id);
  const importSpan = find(SECTION_ID.import);
  const exportSpan = find(SECTION_ID.export);
  if (plan.memoryImport !== null) {
    ok(find(SECTION_ID.memory) !== undefined, 'a memory to turn into an import is defined in the memory section');
  }

  // Sections that must be created because the original has none, by rank.
  const pending: { rank: number; id: number; content: () => Uint8Array }[] = [];
  if (plan.memoryImport !== null && importSpan === undefined) {
    pending.push({ rank: sectionRank(SECTION_ID.import), id: SECTION_ID.import, content: () => importSection(bytes, undefined, plan) });
  }
  if (plan.extraExports.length > 0 && exportSpan === undefined) {
    pending.push({ rank: sectionRank(SECTION_ID.export), id: SECTION_ID.export, content: () => exportSection(bytes, undefined, plan.extraExports) });
  }

  const w = new ByteWriter(bytes.length + 256);
  w.bytes(bytes.subarray(0, HEADER_LENGTH));
  const flushBefore = (rank: number): void => {
    while (pending.length > 0 && pending[0]!.rank < rank) {
      const next = pending.shift()!;
      w.section(next.id, next.content());
    }
  };

  for (const span of info.sections) {
    if (span.id !== SECTION_ID.custom) flushBefore(sectionRank(span.id));
    switch (span.id) {
      case SECTION_ID.import:
        if (plan.memoryImport !== null) {
          w.section(span.id, importSection(bytes, span, plan));
          continue;
        }
        break;
      case SECTION_ID.memory:
        if (plan.memoryImport !== null) continue;
        break;
      case SECTION_ID.export:
        if (plan.extraExports.length > 0) {
          w.section(span.id, exportSection(bytes, span, plan.extraExports));
          continue;
        }
        break;
      case SECTION_ID.data:
        w.section(span.id, dataSection(bytes, info));
        continue;
      default:
        break;
    }
    w.bytes(bytes.subarray(span.start, span.end));
  }
  flushBefore(Number.POSITIVE_INFINITY);
  return w.finish();
}
