/**
 * prepareLayout: from module bytes to what the pool needs to serve the module
 * copy-on-write (a rewritten module that imports its memory, and the initial
 * memory image), or the reason it cannot.
 *
 * Pure: no compile on the success path, no addon. Steps, in order:
 *   1. structural parse (INVALID_WASM with the byte offset on malformed input);
 *   2. `WebAssembly.validate` of the original (INVALID_WASM if the engine refuses it);
 *   3. shape checks, each a fallback: memory count, memory64, shared, offsets, bounds;
 *   4. the rewrite, then `WebAssembly.validate` of the result (fallback `rewrite-invalid` if refused).
 */
import { ok } from 'node:assert/strict';
import { CowpoolError } from '../errors.js';
import { evaluateI32, type ConstExpr } from './const-expr.js';
import { engineAccepts, engineRejection, proposalHints } from './engine-validation.js';
import { planInternalExports } from './internal-exports.js';
import { activeDataBytes, buildMemoryImage, WASM_PAGE_BYTES } from './memory-image.js';
import type { ExportInfo, Limits, MemoryInfo, ModuleInfo } from './module-info.js';
import { rewriteModule } from './module-rewrite.js';
import { rewriteVirtualSize } from './virtual-size-rewrite.js';
import { parseModule } from './parse-module.js';
import type {
  FallbackReason,
  LayoutInternals,
  MemoryType,
  PreparedLayout,
  PrepareLayoutOptions,
} from './prepared-layout.js';

export type {
  ElementSegmentInfo,
  ExportSummary,
  FallbackReason,
  GlobalSummary,
  ImportSummary,
  InternalGlobal,
  InternalTable,
  LayoutInternals,
  MemoryType,
  PreparedLayout,
  PrepareLayoutOptions,
  OmittedGlobal,
  TableSummary,
} from './prepared-layout.js';

export const DEFAULT_PAGE_SIZE = 4096;
/** Module name of the import a defined memory becomes. */
export const MEMORY_IMPORT_MODULE = 'cowpool';
/** Field name of that import (suffixed `_<n>` only if the module already imports this name). */
export const MEMORY_IMPORT_NAME = 'memory';

function resolvePageSize(pageSize: number | undefined): number {
  const value = pageSize ?? DEFAULT_PAGE_SIZE;
  // A power of two up to 64 KiB divides the wasm page, so a rounded image never passes the initial memory.
  if (!(Number.isInteger(value) && value >= 1 && value <= WASM_PAGE_BYTES && (value & (value - 1)) === 0)) {
    throw new CowpoolError(
      'INVALID_ARGUMENT',
      `prepareLayout: options.pageSize must be a power of two between 1 and 65536 (it must divide the 64 KiB wasm page); got ${String(pageSize)}. ` +
        'Pass the system page size (4096 on most Linux machines) or leave it out.',
    );
  }
  return value;
}

function memoryType(limits: Limits): MemoryType {
  return { initialPages: limits.initial, maximumPages: limits.maximum, shared: limits.shared, memory64: limits.is64 };
}

/** A memory import name the module does not already use under `cowpool`. */
function freeMemoryImportName(info: ModuleInfo): string {
  const taken = new Set(info.imports.filter((i) => i.module === MEMORY_IMPORT_MODULE).map((i) => i.name));
  let name = MEMORY_IMPORT_NAME;
  for (let n = 1; taken.has(name); n++) name = `${MEMORY_IMPORT_NAME}_${n}`;
  return name;
}

function evaluateOffset(expr: ConstExpr): number | null {
  const result = evaluateI32(expr);
  return result.constant ? result.value : null;
}

type ShapeCheck = { ok: true; memory: MemoryInfo } | { ok: false; reason: FallbackReason; detail: string };

/** The fallbacks decided by the memory declarations alone, or memory 0 when it can be served copy-on-write. */
function checkShape(info: ModuleInfo): ShapeCheck {
  const [memory, ...others] = info.memories;
  if (memory === undefined) {
    return {
      ok: false, reason: 'no-memory', detail: 'the module neither defines nor imports a memory, so there is no memory to map an image into' };
  }
  if (others.length > 0) {
    const imported = info.memories.filter((m) => m.imported).length;
    return {
      ok: false,
      reason: 'multi-memory',
      detail: `the module has ${info.memories.length} memories (${imported} imported, ${info.memories.length - imported} defined); only single-memory modules are served copy-on-write`,
    };
  }
  if (memory.limits.is64) {
    return { ok: false, reason: 'memory64', detail: 'memory 0 uses 64-bit addresses (memory64); only 32-bit memories are served copy-on-write' };
  }
  if (memory.limits.shared) {
    return {
      ok: false,
      reason: 'shared-memory',
      detail: 'memory 0 is shared: its contents belong to every thread that imports it, not to one instance, so it cannot be reset per instance',
    };
  }
  return { ok: true, memory };
}

const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

/** A WASI module: it imports functions, all from a WASI namespace (so a WASI host, not glue, runs it). */
function isWasiModule(info: ModuleInfo): boolean {
  const functions = info.imports.filter((i) => i.kind === 'function');
  return functions.length > 0 && functions.every((i) => WASI_MODULES.has(i.module));
}

/**
 * The virtual-size rewrite of an already rewritten module (which imports its
 * memory), when its memory can grow; the module unchanged, with the reason,
 * when the rewrite does not apply or is refused.
 */
function virtualSizeOf(rewritten: Uint8Array, limits: Limits): Pick<PreparedLayout, 'bytes' | 'virtualSize' | 'virtualSizeRefusal'> {
  if (limits.initial === 0) {
    return { bytes: rewritten, virtualSize: null, virtualSizeRefusal: 'the memory starts empty (0 pages)' };
  }
  if (limits.maximum !== null && limits.maximum <= limits.initial) {
    return { bytes: rewritten, virtualSize: null, virtualSizeRefusal: 'the memory cannot grow (its maximum is its initial size)' };
  }
  const result = rewriteVirtualSize(rewritten, parseModule(rewritten));
  if (!result.ok) return { bytes: rewritten, virtualSize: null, virtualSizeRefusal: result.detail };
  if (!engineAccepts(result.bytes)) {
    return { bytes: rewritten, virtualSize: null, virtualSizeRefusal: `the virtual-size rewrite does not validate (${engineRejection(result.bytes).reason}); this is a cowpool bug — please report it with the module` };
  }
  return { bytes: result.bytes, virtualSize: result.layout, virtualSizeRefusal: null };
}

/**
 * Prepare `bytes` for the pool. Throws INVALID_WASM (with `offset`) when the
 * bytes are not a module this engine accepts, INVALID_ARGUMENT on bad options.
 */
export function prepareLayout(bytes: Uint8Array, options: PrepareLayoutOptions = {}): PreparedLayout {
  if (!(bytes instanceof Uint8Array)) {
    throw new CowpoolError('INVALID_ARGUMENT', `prepareLayout: bytes must be a Uint8Array (or Buffer) holding a .wasm binary; got ${typeof bytes}`);
  }
  const pageSize = resolvePageSize(options.pageSize);
  const info = parseModule(bytes);

  if (!engineAccepts(bytes)) {
    const rejection = engineRejection(bytes);
    const hints = proposalHints(info);
    const offset = rejection.offset !== null && rejection.offset <= bytes.length ? rejection.offset : 0;
    throw new CowpoolError(
      'INVALID_WASM',
      `not a valid module: the engine rejects it (${rejection.reason})` +
        (hints.length > 0 ? `; possibly because ${hints.join('; and ')}` : '') +
        '. Fix the module (or its toolchain flags) so that WebAssembly.validate accepts it.',
      { offset },
    );
  }

  const memory0 = info.memories[0];
  const base = {
    memory: memory0 === undefined ? null : memoryType(memory0.limits),
    memoryImported: memory0?.imported ?? false,
    memoryExportNames: info.exports.filter((e) => e.kind === 'memory' && e.index === 0).map((e) => e.name),
    imageDataBytes: activeDataBytes(info.data),
    activeSegments: info.data.filter((d) => d.mode === 'active').length,
    passiveSegments: info.data.filter((d) => d.mode === 'passive').length,
    elementSegments: info.elements.map((e) => {
      const offset = e.offsetExpr === null ? null : evaluateOffset(e.offsetExpr);
      return { mode: e.mode, tableIndex: e.tableIndex, offset, funcIndices: e.funcIndices, elemType: e.elemType, length: e.length };
    }),
    tables: info.tables.map((t) => ({ index: t.index, initial: t.limits.initial, maximum: t.limits.maximum, elemType: t.elemType, imported: t.imported })),
    globals: info.globals.map((g) => ({ index: g.index, valtype: g.valtype, mutable: g.mutable, imported: g.imported })),
    imports: info.imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind, index: i.index })),
    exports: info.exports.map((e) => ({ name: e.name, kind: e.kind, index: e.index })),
    functions: { ...info.functions },
    start: info.start,
    pageSize,
    virtualSize: null,
    virtualSizeRefusal: null,
  };
  const fallback = (reason: FallbackReason, detail: string): PreparedLayout => ({
    ...base,
    cow: false,
    fallbackReason: reason,
    fallbackDetail: detail,
    bytes,
    memoryImport: null,
    image: new Uint8Array(0),
    internals: null,
  });

  const shape = checkShape(info);
  if (!shape.ok) return fallback(shape.reason, shape.detail);
  const memory = shape.memory;

  const image = buildMemoryImage(bytes, info.data, memory.limits.initial, pageSize, options.maxImageBytes);
  if (!image.ok) return fallback(image.reason, image.detail);

  let extraExports: ExportInfo[] = [];
  let internals: LayoutInternals | null = null;
  if (options.exportInternals === true) {
    const planned = planInternalExports(info);
    extraExports = planned.exports;
    internals = planned.internals;
  }

  const memoryImport = memory.imported
    ? null
    : { module: MEMORY_IMPORT_MODULE, name: freeMemoryImportName(info), limits: memory.limits };
  const rewritten = rewriteModule(bytes, info, { memoryImport, extraExports });
  if (!engineAccepts(rewritten)) {
    return fallback(
      'rewrite-invalid',
      `the rewritten module does not validate (${engineRejection(rewritten).reason}); this is a cowpool bug — please report it with the module. ` +
        'The original module is served by plain instantiation meanwhile.',
    );
  }

  const importOfMemory = memory.imported ? info.imports.find((i) => i.kind === 'memory' && i.index === 0) : memoryImport;
  ok(importOfMemory !== undefined && importOfMemory !== null, 'an imported memory 0 has its import entry');
  const wanted = options.virtualSize === true || (options.virtualSize === 'wasi' && isWasiModule(info));
  const virtual = wanted ? virtualSizeOf(rewritten, memory.limits) : { bytes: rewritten, virtualSize: null, virtualSizeRefusal: null };
  return {
    ...base,
    ...virtual,
    cow: true,
    fallbackReason: null,
    fallbackDetail: null,
    memoryImport: { module: importOfMemory.module, name: importOfMemory.name },
    image: image.image,
    internals,
  };
}
