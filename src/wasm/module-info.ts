/**
 * What the parser learns about a module: the index spaces that matter for
 * laying out memory and for the rewrite, with the byte ranges the rewrite
 * copies. Offsets are absolute, into the module binary.
 */
import type { ConstExpr } from './const-expr.js';
import type { SectionSpan } from './module-sections.js';

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export interface Limits {
  initial: number;
  maximum: number | null;
  shared: boolean;
  /** The 64-bit address flag (memory64 / table64). */
  is64: boolean;
  /** Byte range of the encoded limits (flags and values), so they can be copied verbatim. */
  start: number;
  end: number;
}

export interface ImportInfo {
  module: string;
  name: string;
  kind: ExternKind;
  /** Index in the import's own index space (the 2nd imported global has index 1). */
  index: number;
  /** Byte range of the whole import entry. */
  start: number;
  end: number;
}

export interface ExportInfo {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface TableInfo {
  index: number;
  /** Element reference type in text format (`funcref`, `externref`, `(ref null 2)`). */
  elemType: string;
  limits: Limits;
  imported: boolean;
}

export interface MemoryInfo {
  index: number;
  limits: Limits;
  imported: boolean;
}

export interface GlobalInfo {
  index: number;
  /** Value type in text format (`i32`, `v128`, `externref`, ...). */
  valtype: string;
  mutable: boolean;
  imported: boolean;
  /** Initialiser of a defined global; null for an imported one. */
  init: ConstExpr | null;
}

export interface DataSegmentEntry {
  index: number;
  mode: 'active' | 'passive';
  /** Memory written by an active segment; null for a passive one. */
  memoryIndex: number | null;
  offsetExpr: ConstExpr | null;
  /** Offset of the segment's first byte (its flags). */
  start: number;
  /** Offset of the LEB128 length that precedes the payload. */
  lengthAt: number;
  /** Offset of the first payload byte. */
  dataStart: number;
  dataLength: number;
}

export interface ElementSegmentEntry {
  index: number;
  /** Offset of the segment's first byte (its flags). */
  start: number;
  /** Offset of the element count that precedes the items. */
  itemsStart: number;
  /** Offset one past the segment's last byte. */
  end: number;
  mode: 'active' | 'passive' | 'declarative';
  /** Table written by an active segment; null for passive and declarative ones. */
  tableIndex: number | null;
  offsetExpr: ConstExpr | null;
  elemType: string;
  /** Number of elements. */
  length: number;
  /** The function indices, when every element is a function index or `ref.func`; null otherwise. */
  funcIndices: number[] | null;
}

export interface CustomSectionInfo {
  name: string;
  start: number;
  end: number;
}

export interface ModuleInfo {
  sections: SectionSpan[];
  /** Number of types defined (recursion groups count each member). */
  typeCount: number;
  imports: ImportInfo[];
  functions: { imported: number; defined: number };
  /** Imported tables first, then defined ones: the table index space. */
  tables: TableInfo[];
  /** Imported memories first, then defined ones: the memory index space. */
  memories: MemoryInfo[];
  tags: { imported: number; defined: number };
  /** Imported globals first, then defined ones: the global index space. */
  globals: GlobalInfo[];
  exports: ExportInfo[];
  start: number | null;
  elements: ElementSegmentEntry[];
  /** The data count section's value, null when the section is absent. */
  dataCount: number | null;
  data: DataSegmentEntry[];
  customSections: CustomSectionInfo[];
}
