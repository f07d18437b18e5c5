/**
 * What a snapshot can express, decided from the module alone before anything
 * runs: one 32-bit unshared memory at most; tables that start null;
 * mutable globals of number, v128, funcref or externref type. And the
 * defined tables' entries in the table section, which the snapshot module
 * rewrites with their new sizes.
 */
import type { ModuleInfo } from '../wasm/module-info.js';
import { SECTION_ID } from '../wasm/module-sections.js';
import { vectorEntries } from '../wasm/section-edit.js';
import { snapshotUnsupported } from './snapshot-unsupported.js';

const CAPTURED_TYPES = new Set(['i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref']);

/**
 * Refuses, before anything runs, the modules whose state the snapshot cannot
 * express: shared, 64-bit or several memories; tables with an initial-value
 * expression; mutable globals of types other than numbers, v128, funcref and externref.
 */
export function checkSnapshotShape(bytes: Uint8Array, info: ModuleInfo, moduleName: string): void {
  if (info.memories.length > 1) throw snapshotUnsupported(moduleName, `the module has ${info.memories.length} memories; snapshots support one`);
  const memory = info.memories[0];
  if (memory?.limits.shared === true) {
    throw snapshotUnsupported(moduleName, `memory 0 is shared (${memory.imported ? 'imported' : 'defined'}): other threads may write it during and after initialization`);
  }
  if (memory?.limits.is64 === true) throw snapshotUnsupported(moduleName, 'memory 0 uses 64-bit addresses (memory64)');
  for (const g of info.globals) {
    if (g.mutable && !CAPTURED_TYPES.has(g.valtype)) {
      throw snapshotUnsupported(moduleName, `mutable global ${g.index} has type ${g.valtype}; snapshots capture numbers, v128, funcref and externref (null) only`);
    }
  }
  definedTableEntries(bytes, info, moduleName);
}

export interface TableEntryBytes {
  index: number;
  /** The element type's encoding. */
  typeBytes: Uint8Array;
}

/**
 * The defined tables' entries in the table section (element type bytes),
 * refusing a table with an initial-value expression (the 0x40 prefix of the
 * function-references proposal).
 */
export function definedTableEntries(bytes: Uint8Array, info: ModuleInfo, moduleName: string): TableEntryBytes[] {
  const span = info.sections.find((s) => s.id === SECTION_ID.table);
  const defined = info.tables.filter((t) => !t.imported);
  if (span === undefined || defined.length === 0) return [];
  const out: TableEntryBytes[] = [];
  // Each plain entry is its element type then its limits; the next starts where the limits end.
  let at = span.end - vectorEntries(bytes, span).entries.length;
  for (const t of defined) {
    if (bytes[at] === 0x40) {
      throw snapshotUnsupported(moduleName, `table ${t.index} declares an initial-value expression; snapshots support tables that start null`);
    }
    out.push({ index: t.index, typeBytes: bytes.slice(at, t.limits.start) });
    at = t.limits.end;
  }
  return out;
}

