/**
 * The structural parse of a module binary into ModuleInfo. It checks what the
 * binary format requires of sizes, counts, encodings and section order, and
 * reads every section except function bodies (only their sizes) and custom
 * section payloads. Type checking is left to `WebAssembly.validate`.
 *
 * Time and memory are linear in the input: every vector count is checked
 * against the bytes left before it is looped over, and payloads are stepped over, never copied.
 */
import { ByteReader } from './byte-reader.js';
import { readConstExpr, refFuncIndex, type ConstExpr } from './const-expr.js';
import { malformed } from './malformed.js';
import type {
  CustomSectionInfo,
  DataSegmentEntry,
  ElementSegmentEntry,
  ExportInfo,
  ExternKind,
  GlobalInfo,
  ImportInfo,
  Limits,
  MemoryInfo,
  ModuleInfo,
  TableInfo,
} from './module-info.js';
import { SECTION_ID, sectionName, splitSections } from './module-sections.js';
import { readRefType, readStorageType, readValType } from './value-type.js';

const EXTERN_KIND: readonly ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

function readExternKind(r: ByteReader, field: string): ExternKind {
  const at = r.pos;
  const b = r.u8(field);
  const kind = EXTERN_KIND[b];
  if (kind === undefined) throw r.error(field, `unknown external kind ${b} (expected 0 function, 1 table, 2 memory, 3 global or 4 tag)`, at);
  return kind;
}

function readLimits(r: ByteReader, field: string): Limits {
  const start = r.pos;
  const flags = r.u8(`${field} flags`);
  // bit 0: has maximum, bit 1: shared, bit 2: 64-bit addresses. Anything else is not a limits encoding we know.
  if ((flags & ~0x07) !== 0) throw r.error(`${field} flags`, `unknown limits flags 0x${flags.toString(16).padStart(2, '0')}`, start);
  const is64 = (flags & 0x04) !== 0;
  const value = (what: string): number => (is64 ? Number(r.u64(`${field} ${what}`)) : r.u32(`${field} ${what}`));
  const initial = value('minimum');
  const maximum = (flags & 0x01) !== 0 ? value('maximum') : null;
  return { initial, maximum, shared: (flags & 0x02) !== 0, is64, start, end: r.pos };
}

function readGlobalType(r: ByteReader, field: string): { valtype: string; mutable: boolean } {
  const valtype = readValType(r, `${field} type`);
  const at = r.pos;
  const mut = r.u8(`${field} mutability`);
  // bit 0: mutable, bit 1: shared (shared-everything threads).
  if ((mut & ~0x03) !== 0) throw r.error(`${field} mutability`, `mutability flag must be 0 or 1, found ${mut}`, at);
  return { valtype, mutable: (mut & 0x01) !== 0 };
}

/** One composite type: func, struct or array. */
function readCompType(r: ByteReader, field: string): void {
  const at = r.pos;
  const form = r.u8(field);
  switch (form) {
    case 0x60: {
      const params = r.count(`${field} parameter count`);
      for (let i = 0; i < params; i++) readValType(r, `${field} parameter ${i}`);
      const results = r.count(`${field} result count`);
      for (let i = 0; i < results; i++) readValType(r, `${field} result ${i}`);
      return;
    }
    case 0x5f: {
      const fields = r.count(`${field} struct field count`, 2);
      for (let i = 0; i < fields; i++) readFieldType(r, `${field} struct field ${i}`);
      return;
    }
    case 0x5e:
      readFieldType(r, `${field} array element`);
      return;
    default:
      throw r.error(field, `unknown type form 0x${form.toString(16).padStart(2, '0')} (expected 0x60 func, 0x5f struct, 0x5e array)`, at);
  }
}

function readFieldType(r: ByteReader, field: string): void {
  readStorageType(r, field);
  const at = r.pos;
  const mut = r.u8(`${field} mutability`);
  if (mut > 1) throw r.error(`${field} mutability`, `mutability flag must be 0 or 1, found ${mut}`, at);
}

/** A sub type (GC) or a bare composite type. */
function readSubType(r: ByteReader, field: string): void {
  const b = r.peekU8();
  if (b === 0x50 || b === 0x4f) {
    r.u8(field);
    const supers = r.count(`${field} supertype count`);
    for (let i = 0; i < supers; i++) r.u32(`${field} supertype ${i}`);
  }
  readCompType(r, field);
}

function parseTypes(r: ByteReader): number {
  const count = r.count('type count');
  let types = 0;
  for (let i = 0; i < count; i++) {
    if (r.peekU8() === 0x4e) {
      r.u8(`type entry ${i}`);
      const members = r.count(`recursion group ${i} size`);
      for (let j = 0; j < members; j++) readSubType(r, `type ${types + j}`);
      types += members;
    } else {
      readSubType(r, `type ${types}`);
      types += 1;
    }
  }
  return types;
}

interface ImportResult {
  imports: ImportInfo[];
  functions: number;
  tables: TableInfo[];
  memories: MemoryInfo[];
  globals: GlobalInfo[];
  tags: number;
}

function parseImports(r: ByteReader): ImportResult {
  // module name, field name, kind and descriptor take at least one byte each.
  const count = r.count('import count', 4);
  const out: ImportResult = { imports: [], functions: 0, tables: [], memories: [], globals: [], tags: 0 };
  for (let i = 0; i < count; i++) {
    const field = `import ${i}`;
    const start = r.pos;
    const module = r.name(`${field} module name`);
    const name = r.name(`${field} field name`);
    const kind = readExternKind(r, `${field} kind`);
    let index: number;
    switch (kind) {
      case 'function':
        r.u32(`${field} type index`);
        index = out.functions++;
        break;
      case 'table': {
        const elemType = readRefType(r, `${field} table element type`);
        const limits = readLimits(r, `${field} table limits`);
        index = out.tables.length;
        out.tables.push({ index, elemType, limits, imported: true });
        break;
      }
      case 'memory': {
        const limits = readLimits(r, `${field} memory limits`);
        index = out.memories.length;
        out.memories.push({ index, limits, imported: true });
        break;
      }
      case 'global': {
        const type = readGlobalType(r, `${field} global`);
        index = out.globals.length;
        out.globals.push({ index, ...type, imported: true, init: null });
        break;
      }
      case 'tag': {
        readTagType(r, `${field} tag`);
        index = out.tags++;
        break;
      }
    }
    out.imports.push({ module, name, kind, index, start, end: r.pos });
  }
  return out;
}

function readTagType(r: ByteReader, field: string): void {
  const at = r.pos;
  const attribute = r.u8(`${field} attribute`);
  if (attribute !== 0) throw r.error(`${field} attribute`, `tag attribute must be 0 (exception), found ${attribute}`, at);
  r.u32(`${field} type index`);
}

function parseFunctions(r: ByteReader): number {
  const count = r.count('function count');
  for (let i = 0; i < count; i++) r.u32(`function ${i} type index`);
  return count;
}

function parseTables(r: ByteReader, first: number): TableInfo[] {
  const count = r.count('table count', 3);
  const tables: TableInfo[] = [];
  for (let i = 0; i < count; i++) {
    const index = first + i;
    const field = `table ${index}`;
    if (r.peekU8() === 0x40) {
      // function-references: a table with an explicit initial value.
      r.u8(field);
      const at = r.pos;
      const reserved = r.u8(`${field} reserved byte`);
      if (reserved !== 0) throw r.error(`${field} reserved byte`, `expected 0x00 after 0x40, found ${reserved}`, at);
      const elemType = readRefType(r, `${field} element type`);
      const limits = readLimits(r, `${field} limits`);
      readConstExpr(r, `${field} initial value`);
      tables.push({ index, elemType, limits, imported: false });
    } else {
      const elemType = readRefType(r, `${field} element type`);
      const limits = readLimits(r, `${field} limits`);
      tables.push({ index, elemType, limits, imported: false });
    }
  }
  return tables;
}

function parseMemories(r: ByteReader, first: number): MemoryInfo[] {
  const count = r.count('memory count', 2);
  const memories: MemoryInfo[] = [];
  for (let i = 0; i < count; i++) {
    memories.push({ index: first + i, limits: readLimits(r, `memory ${first + i} limits`), imported: false });
  }
  return memories;
}

function parseTags(r: ByteReader): number {
  const count = r.count('tag count', 2);
  for (let i = 0; i < count; i++) readTagType(r, `tag ${i}`);
  return count;
}

function parseGlobals(r: ByteReader, first: number): GlobalInfo[] {
  // type, mutability and `end` take at least one byte each.
  const count = r.count('global count', 3);
  const globals: GlobalInfo[] = [];
  for (let i = 0; i < count; i++) {
    const index = first + i;
    const type = readGlobalType(r, `global ${index}`);
    const init = readConstExpr(r, `global ${index} initialiser`);
    globals.push({ index, ...type, imported: false, init });
  }
  return globals;
}

function parseExports(r: ByteReader): ExportInfo[] {
  const count = r.count('export count', 3);
  const exports: ExportInfo[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.name(`export ${i} name`);
    const kind = readExternKind(r, `export ${i} kind`);
    const index = r.u32(`export ${i} index`);
    exports.push({ name, kind, index });
  }
  return exports;
}

function readElemKind(r: ByteReader, field: string): string {
  const at = r.pos;
  const kind = r.u8(field);
  if (kind !== 0) throw r.error(field, `element kind must be 0x00 (funcref), found ${kind}`, at);
  return 'funcref';
}

function parseElements(r: ByteReader): ElementSegmentEntry[] {
  const count = r.count('element segment count', 2);
  const segments: ElementSegmentEntry[] = [];
  for (let index = 0; index < count; index++) {
    const field = `element segment ${index}`;
    const at = r.pos;
    const flags = r.u32(`${field} flags`);
    if (flags > 7) throw r.error(`${field} flags`, `element segment flags must be 0..7, found ${flags}`, at);
    // bit 0: passive/declarative, bit 1: explicit table index (active) or declarative, bit 2: expressions.
    const mode = (flags & 0x01) === 0 ? 'active' : (flags & 0x02) === 0 ? 'passive' : 'declarative';
    let tableIndex: number | null = null;
    let offsetExpr: ConstExpr | null = null;
    if (mode === 'active') {
      tableIndex = (flags & 0x02) !== 0 ? r.u32(`${field} table index`) : 0;
      offsetExpr = readConstExpr(r, `${field} offset`);
    }
    const usesExprs = (flags & 0x04) !== 0;
    let elemType = 'funcref';
    if ((flags & 0x03) !== 0) {
      elemType = usesExprs ? readRefType(r, `${field} element type`) : readElemKind(r, `${field} element kind`);
    }
    const itemsStart = r.pos;
    const length = r.count(`${field} element count`, usesExprs ? 2 : 1);
    const indices: number[] = [];
    let allFunctions = true;
    for (let i = 0; i < length; i++) {
      if (usesExprs) {
        const fn = refFuncIndex(readConstExpr(r, `${field} element ${i}`));
        if (fn === null) allFunctions = false;
        else indices.push(fn);
      } else {
        indices.push(r.u32(`${field} function index ${i}`));
      }
    }
    const funcIndices = allFunctions ? indices : null;
    segments.push({ index, start: at, itemsStart, end: r.pos, mode, tableIndex, offsetExpr, elemType, length, funcIndices });
  }
  return segments;
}

function parseCode(r: ByteReader): number {
  const count = r.count('function body count', 2);
  for (let i = 0; i < count; i++) {
    const size = r.u32(`function body ${i} size`);
    r.skip(size, `function body ${i}`);
  }
  return count;
}

function parseData(r: ByteReader): DataSegmentEntry[] {
  const count = r.count('data segment count', 2);
  const segments: DataSegmentEntry[] = [];
  for (let index = 0; index < count; index++) {
    const field = `data segment ${index}`;
    const start = r.pos;
    const flags = r.u32(`${field} flags`);
    let memoryIndex: number | null = null;
    let offsetExpr: ConstExpr | null = null;
    switch (flags) {
      case 0:
        memoryIndex = 0;
        offsetExpr = readConstExpr(r, `${field} offset`);
        break;
      case 1:
        break;
      case 2:
        memoryIndex = r.u32(`${field} memory index`);
        offsetExpr = readConstExpr(r, `${field} offset`);
        break;
      default:
        throw r.error(`${field} flags`, `data segment flags must be 0 (active), 1 (passive) or 2 (active with memory index), found ${flags}`, start);
    }
    const lengthAt = r.pos;
    const dataLength = r.u32(`${field} length`);
    const dataStart = r.pos;
    r.skip(dataLength, `${field} payload`);
    segments.push({
      index,
      mode: flags === 1 ? 'passive' : 'active',
      memoryIndex,
      offsetExpr,
      start,
      lengthAt,
      dataStart,
      dataLength,
    });
  }
  return segments;
}

/**
 * Parse `bytes` as a module binary. Throws INVALID_WASM (with `offset`) on
 * anything the binary format forbids that this parser can see.
 */
export function parseModule(bytes: Uint8Array): ModuleInfo {
  const sections = splitSections(bytes);
  const info: ModuleInfo = {
    sections,
    typeCount: 0,
    imports: [],
    functions: { imported: 0, defined: 0 },
    tables: [],
    memories: [],
    tags: { imported: 0, defined: 0 },
    globals: [],
    exports: [],
    start: null,
    elements: [],
    dataCount: null,
    data: [],
    customSections: [],
  };
  let codeCount: { count: number; at: number } | null = null;

  for (const span of sections) {
    const r = new ByteReader(bytes, span.contentStart, span.end, sectionName(span.id));
    switch (span.id) {
      case SECTION_ID.custom: {
        const name = r.name('custom section name');
        // The payload belongs to whoever defined the section; it is copied, never read.
        r.skip(r.remaining, 'custom section payload');
        info.customSections.push({ name, start: span.start, end: span.end });
        break;
      }
      case SECTION_ID.type:
        info.typeCount = parseTypes(r);
        break;
      case SECTION_ID.import: {
        const imported = parseImports(r);
        info.imports = imported.imports;
        info.functions.imported = imported.functions;
        info.tables = imported.tables;
        info.memories = imported.memories;
        info.globals = imported.globals;
        info.tags.imported = imported.tags;
        break;
      }
      case SECTION_ID.function:
        info.functions.defined = parseFunctions(r);
        break;
      case SECTION_ID.table:
        info.tables = [...info.tables, ...parseTables(r, info.tables.length)];
        break;
      case SECTION_ID.memory:
        info.memories = [...info.memories, ...parseMemories(r, info.memories.length)];
        break;
      case SECTION_ID.tag:
        info.tags.defined = parseTags(r);
        break;
      case SECTION_ID.global:
        info.globals = [...info.globals, ...parseGlobals(r, info.globals.length)];
        break;
      case SECTION_ID.export:
        info.exports = parseExports(r);
        break;
      case SECTION_ID.start:
        info.start = r.u32('start function index');
        break;
      case SECTION_ID.element:
        info.elements = parseElements(r);
        break;
      case SECTION_ID.dataCount:
        info.dataCount = r.u32('data count');
        break;
      case SECTION_ID.code:
        codeCount = { count: parseCode(r), at: span.contentStart };
        break;
      case SECTION_ID.data:
        info.data = parseData(r);
        break;
    }
    r.expectEnd(sectionName(span.id));
  }

  const bodies = codeCount?.count ?? 0;
  if (bodies !== info.functions.defined) {
    throw malformed(
      codeCount?.at ?? bytes.length,
      'function body count',
      `the function section declares ${info.functions.defined} function(s) but the code section has ${bodies} bod${bodies === 1 ? 'y' : 'ies'}`,
    );
  }
  if (info.dataCount !== null && info.dataCount !== info.data.length) {
    const dataSection = sections.find((s) => s.id === SECTION_ID.data);
    throw malformed(
      dataSection?.contentStart ?? bytes.length,
      'data segment count',
      `the data count section says ${info.dataCount} segment(s) but the data section has ${info.data.length}`,
    );
  }
  return info;
}
