/**
 * Section-level editing of a module binary: replace, remove or add whole
 * sections, copying every other section (custom ones included) byte for byte
 * in its place.
 *
 * ```
 *   original   header │ type │ import │ ... │ start │ element │ code │ data
 *   edits              │  ▲ new content    │ null  │ ▲ new   │      │ ▲ new
 *   result     header │ type'│ import │ ... │       │ element'│ code │ data'
 * ```
 * A section the original lacks is inserted before the first section of a
 * higher rank, so the result keeps the order the binary format requires.
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { HEADER_LENGTH, sectionRank, type SectionId, type SectionSpan } from './module-sections.js';

export type NonCustomSectionId = Exclude<SectionId, 0>;

/** New content per section id (without the id and size); null removes the section. */
export type SectionEdits = Partial<Record<NonCustomSectionId, Uint8Array | null>>;

/** The entries of a vector section after its count, and that count (an absent section is an empty vector). */
export function vectorEntries(bytes: Uint8Array, span: SectionSpan | undefined): { count: number; entries: Uint8Array } {
  if (span === undefined) return { count: 0, entries: new Uint8Array(0) };
  const r = new ByteReader(bytes, span.contentStart, span.end, 'section');
  const count = r.u32('entry count');
  return { count, entries: bytes.subarray(r.pos, span.end) };
}

/** A vector section's content: `count` then the encoded entries. */
export function vectorContent(count: number, parts: readonly Uint8Array[]): Uint8Array {
  const size = parts.reduce((sum, p) => sum + p.length, 0);
  const w = new ByteWriter(size + 8).u32(count);
  for (const p of parts) w.bytes(p);
  return w.finish();
}

/** Applies `edits` to the module `bytes` whose sections are `sections` (its splitSections result). */
export function editSections(bytes: Uint8Array, sections: readonly SectionSpan[], edits: SectionEdits): Uint8Array {
  const present = new Set(sections.map((s) => s.id));
  const pending = (Object.keys(edits).map(Number) as NonCustomSectionId[])
    .filter((id) => !present.has(id) && edits[id] !== null && edits[id] !== undefined)
    .sort((a, b) => sectionRank(a) - sectionRank(b));
  const w = new ByteWriter(bytes.length + 1024);
  w.bytes(bytes.subarray(0, HEADER_LENGTH));
  const flushBefore = (rank: number): void => {
    while (pending.length > 0 && sectionRank(pending[0]!) < rank) {
      const id = pending.shift()!;
      w.section(id, edits[id]!);
    }
  };
  for (const span of sections) {
    if (span.id === 0) {
      w.bytes(bytes.subarray(span.start, span.end));
      continue;
    }
    flushBefore(sectionRank(span.id));
    const edit = edits[span.id];
    if (edit === undefined) w.bytes(bytes.subarray(span.start, span.end));
    else if (edit !== null) w.section(span.id, edit);
  }
  flushBefore(Number.POSITIVE_INFINITY);
  return w.finish();
}
