/**
 * Splitting a module binary into its sections, with the header, size and
 * ordering checks of the binary format. Contents are not looked at here.
 */
import { ByteReader } from './byte-reader.js';
import { malformed } from './malformed.js';

export const SECTION_ID = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

export type SectionId = (typeof SECTION_ID)[keyof typeof SECTION_ID];

const SECTION_NAME: Record<SectionId, string> = {
  0: 'custom section',
  1: 'type section',
  2: 'import section',
  3: 'function section',
  4: 'table section',
  5: 'memory section',
  6: 'global section',
  7: 'export section',
  8: 'start section',
  9: 'element section',
  10: 'code section',
  11: 'data section',
  12: 'data count section',
  13: 'tag section',
};

/**
 * Where each non-custom section must appear. The ids are not in order: the
 * tag section (13) sits between memory and global, data count (12) between
 * element and code.
 */
const SECTION_RANK: Record<Exclude<SectionId, 0>, number> = {
  1: 1, // type
  2: 2, // import
  3: 3, // function
  4: 4, // table
  5: 5, // memory
  13: 6, // tag
  6: 7, // global
  7: 8, // export
  8: 9, // start
  9: 10, // element
  12: 11, // data count
  10: 12, // code
  11: 13, // data
};

export function sectionName(id: SectionId): string {
  return SECTION_NAME[id];
}

/** The rank that orders non-custom sections; custom sections have none. */
export function sectionRank(id: Exclude<SectionId, 0>): number {
  return SECTION_RANK[id];
}

/** One section of the binary, by absolute offsets. */
export interface SectionSpan {
  id: SectionId;
  /** Offset of the id byte. */
  start: number;
  /** Offset of the first content byte (after the id and the size). */
  contentStart: number;
  /** Offset one past the last content byte. */
  end: number;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;
const VERSION = [0x01, 0x00, 0x00, 0x00] as const;
export const HEADER_LENGTH = 8;

function isSectionId(id: number): id is SectionId {
  return id >= 0 && id <= 13;
}

/**
 * The sections of `bytes` in file order. Throws INVALID_WASM on a bad header,
 * an unknown section id, a size running past the end of the file, a
 * duplicated section or one out of order.
 */
export function splitSections(bytes: Uint8Array): SectionSpan[] {
  const r = new ByteReader(bytes, 0, bytes.length, 'module');
  for (let i = 0; i < 4; i++) {
    const at = r.pos;
    const b = r.u8('magic number');
    if (b !== MAGIC[i]) {
      throw malformed(at, 'magic number', `expected the bytes 00 61 73 6d ("\\0asm"), found 0x${b.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
  for (let i = 0; i < 4; i++) {
    const at = r.pos;
    const b = r.u8('version');
    if (b !== VERSION[i]) {
      throw malformed(at, 'version', `expected version 1 (01 00 00 00), found byte 0x${b.toString(16).padStart(2, '0')} at byte ${at}; only core module binaries version 1 are supported (components are not)`);
    }
  }

  const spans: SectionSpan[] = [];
  let lastRank = 0;
  let lastId: SectionId | null = null;
  while (!r.atEnd()) {
    const start = r.pos;
    const id = r.u8('section id');
    if (!isSectionId(id)) {
      throw malformed(start, 'section id', `unknown section id ${id}`);
    }
    const sizeAt = r.pos;
    const size = r.u32(`${SECTION_NAME[id]} size`);
    const contentStart = r.pos;
    if (size > r.remaining) {
      throw malformed(sizeAt, `${SECTION_NAME[id]} size`, `the section declares ${size} bytes but only ${r.remaining} remain in the file`);
    }
    r.skip(size, SECTION_NAME[id]);
    if (id !== SECTION_ID.custom) {
      const rank = SECTION_RANK[id];
      if (rank === lastRank) {
        throw malformed(start, SECTION_NAME[id], 'the section appears twice');
      }
      if (rank < lastRank) {
        throw malformed(start, SECTION_NAME[id], `the section must come before the ${lastId === null ? 'previous' : SECTION_NAME[lastId]}`);
      }
      lastRank = rank;
      lastId = id;
    }
    spans.push({ id, start, contentStart, end: contentStart + size });
  }
  return spans;
}
