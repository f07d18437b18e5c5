/**
 * What a snapshot captured, for people (`cowpool inspect --initialize`) and
 * for programs (`prepared.snapshot`).
 */
import type { ModuleInfo } from '../wasm/module-info.js';
import type { CapturedState, CapturedValue } from './captured-state.js';
import { nonZeroRuns } from './snapshot-module.js';

export interface SnapshotReport {
  /** Memory 0 after initialization; null without a memory. */
  memory: {
    pages: number;
    /** Pages the module declared (a memory grown during initialization starts at `pages`). */
    declaredPages: number;
    /** Bytes written as data segments (runs of non-zero 4 KiB blocks). */
    dataBytes: number;
    segments: number;
  } | null;
  /** Every defined mutable global and its value after initialization. */
  globals: { index: number; valtype: string; value: string }[];
  /** Every defined table: its length and how many entries hold a function. */
  tables: { index: number; length: number; declaredLength: number; entries: number }[];
  /** Passive segments the initialization dropped. */
  droppedData: number[];
  droppedElements: number[];
  /** The start function that ran and is gone from the snapshot module; null without one. */
  startFunction: number | null;
  /** Size of the snapshot module in bytes. */
  moduleBytes: number;
}

export function describeCaptured(value: CapturedValue): string {
  switch (value.valtype) {
    case 'i32':
    case 'i64':
      return String(value.value);
    case 'f32':
      return `${new Float32Array(Uint32Array.of(value.bits >>> 0).buffer)[0]} (bits 0x${(value.bits >>> 0).toString(16).padStart(8, '0')})`;
    case 'f64':
      return `${new Float64Array(BigUint64Array.of(BigInt.asUintN(64, value.bits)).buffer)[0]} (bits 0x${BigInt.asUintN(64, value.bits).toString(16).padStart(16, '0')})`;
    case 'v128':
      return `i64x2 ${value.lanes[0]} ${value.lanes[1]}`;
    case 'funcref':
      return value.func === null ? 'null' : `function ${value.func}`;
    case 'externref':
      return 'null';
  }
}

export function snapshotReport(info: ModuleInfo, state: CapturedState, moduleBytes: number): SnapshotReport {
  const runs = state.memory === null ? [] : nonZeroRuns(state.memory.bytes);
  return {
    memory: state.memory === null ? null : {
      pages: state.memory.pages,
      declaredPages: info.memories[0]?.limits.initial ?? 0,
      dataBytes: runs.reduce((sum, r) => sum + r.length, 0),
      segments: runs.length,
    },
    globals: [...state.globals].map(([index, value]) => ({ index, valtype: value.valtype, value: describeCaptured(value) })),
    tables: [...state.tables].map(([index, entries]) => ({
      index,
      length: entries.length,
      declaredLength: info.tables[index]?.limits.initial ?? 0,
      entries: entries.filter((e) => e !== null).length,
    })),
    droppedData: [...state.droppedData].sort((a, b) => a - b),
    droppedElements: [...state.droppedElements].sort((a, b) => a - b),
    startFunction: info.start,
    moduleBytes,
  };
}
