/**
 * The result of preparing a module for the pool: whether it can be served
 * copy-on-write, the module to compile, the memory image to map, and the
 * summaries the pool and the `reuse` strategy need.
 */
import type { ExternKind } from './module-info.js';
import type { VirtualSizeLayout } from './virtual-size-rewrite.js';

/**
 * Why a module is served by plain V8 instantiation instead of copy-on-write:
 * - `no-memory`: it has no memory, so there is nothing to map.
 * - `shared-memory`: memory 0 is shared; its contents are not per instance.
 * - `memory64`: memory 0 uses 64-bit addresses.
 * - `multi-memory`: it has more than one memory (imported and defined together).
 * - `non-constant-data-offset`: an active data segment's offset depends on a
 *   global (typically an imported `__memory_base`), so the image is not known
 *   before instantiation.
 * - `image-exceeds-initial-memory`: a segment does not fit in the initial
 *   memory; instantiation must trap, and V8 is left to do it.
 * - `image-over-limit`: the image is larger than the `maxImageBytes` option
 *   (the pool's `limits.maxImageBytes`); it is not even allocated.
 * - `rewrite-invalid`: the rewritten module did not validate. This is a bug in
 *   the rewrite; serving the original keeps the module working meanwhile.
 */
export type FallbackReason =
  | 'no-memory'
  | 'shared-memory'
  | 'memory64'
  | 'multi-memory'
  | 'non-constant-data-offset'
  | 'image-exceeds-initial-memory'
  | 'image-over-limit'
  | 'rewrite-invalid';

export interface MemoryType {
  initialPages: number;
  maximumPages: number | null;
  shared: boolean;
  memory64: boolean;
}

export interface ElementSegmentInfo {
  mode: 'active' | 'passive' | 'declarative';
  /** Table an active segment writes; null for passive and declarative segments. */
  tableIndex: number | null;
  /** Constant offset of an active segment; null when not constant (global.get) or not active. */
  offset: number | null;
  /** Function indices when every element names a function; null if any is another expression (ref.null, ...). */
  funcIndices: number[] | null;
  /** Element type in text format (`funcref`, `externref`, ...). */
  elemType: string;
  /** Number of elements. */
  length: number;
}

export interface TableSummary {
  index: number;
  initial: number;
  maximum: number | null;
  elemType: string;
  imported: boolean;
}

export interface GlobalSummary {
  index: number;
  valtype: string;
  mutable: boolean;
  imported: boolean;
}

export interface ImportSummary {
  module: string;
  name: string;
  kind: ExternKind;
  /** Index in the kind's own index space. */
  index: number;
}

export interface ExportSummary {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface InternalGlobal {
  exportName: string;
  index: number;
  valtype: string;
}

export interface InternalTable {
  exportName: string;
  index: number;
}

/** A defined mutable global that was not exported because JS cannot hold its values. */
export interface OmittedGlobal {
  index: number;
  valtype: string;
  reason: string;
}

/** What `exportInternals` added to the rewritten module. */
export interface LayoutInternals {
  /** Every defined mutable global JS can read, exported as `__cowpool_global_<index>`. */
  globals: InternalGlobal[];
  /** Every defined table, exported as `__cowpool_table_<index>`. */
  tables: InternalTable[];
  /** Defined mutable globals left out (v128, exception references). */
  omittedGlobals: OmittedGlobal[];
}

export interface PrepareLayoutOptions {
  /** Export defined mutable globals and defined tables under reserved names (for the `reuse` strategy). */
  exportInternals?: boolean;
  /** Image length granularity in bytes: a power of two that divides 64 KiB. Default 4096. */
  pageSize?: number;
  /** A larger image falls back with `image-over-limit` before it is allocated. Default: no limit. */
  maxImageBytes?: number;
  /**
   * Keep a growable memory's size in a global of the module (the
   * virtual-size rewrite): true, false, or `'wasi'` — only for a WASI module
   * (every function it imports comes from `wasi_snapshot_preview1` or
   * `wasi_unstable`: it runs on a WASI host, never on glue). Default false.
   */
  virtualSize?: boolean | 'wasi';
}

export interface PreparedLayout {
  /** True when the pool can serve the module copy-on-write. */
  cow: boolean;
  /** Non-null iff `!cow`. */
  fallbackReason: FallbackReason | null;
  /** Non-null iff `!cow`: the reason for people, naming the segment or memory at fault. */
  fallbackDetail: string | null;
  /** The rewritten module when `cow`, else the original bytes (the same Uint8Array that was passed in). */
  bytes: Uint8Array;
  /** Memory 0's type, defined or imported; null without a memory. */
  memory: MemoryType | null;
  /** The original module imports its memory 0. */
  memoryImported: boolean;
  /** When `cow`: the import the pool fills with its Memory (`cowpool.memory` for a formerly defined memory). Null otherwise. */
  memoryImport: { module: string; name: string } | null;
  /** Names under which memory 0 is exported (kept by the rewrite). */
  memoryExportNames: string[];
  /**
   * When `cow`: memory bytes `[0, image.length)` right after data
   * initialisation; the length is a multiple of `pageSize` and at most the
   * initial memory size. Empty when there is no non-empty active segment, and
   * when `!cow`.
   */
  image: Uint8Array;
  /** Sum of the active segments' lengths (overlaps counted twice). */
  imageDataBytes: number;
  activeSegments: number;
  passiveSegments: number;
  /** Non-null iff `exportInternals` was asked for and `cow` (the exports exist only in the rewritten bytes). */
  internals: LayoutInternals | null;
  elementSegments: ElementSegmentInfo[];
  /** The table index space: imported tables first. */
  tables: TableSummary[];
  /** The global index space: imported globals first. */
  globals: GlobalSummary[];
  /** The original module's imports, in order (the added memory import is in `memoryImport`). */
  imports: ImportSummary[];
  /** The original module's exports, in order (internals are listed in `internals`). */
  exports: ExportSummary[];
  functions: { imported: number; defined: number };
  /** Start function index, or null. */
  start: number | null;
  /** The page size the image was rounded to. */
  pageSize: number;
  /** When `cow` and the virtual-size rewrite applied: its exports and import. Null otherwise. */
  virtualSize: VirtualSizeLayout | null;
  /** Why the virtual-size rewrite was asked for and not applied (the module then retires a memory that grew); null otherwise. */
  virtualSizeRefusal: string | null;
}
