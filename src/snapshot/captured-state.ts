/**
 * The state of an instance after its start function and initializer ran,
 * read back through the instrumented copy: what the snapshot module must
 * reproduce, in the index spaces of the original module.
 */

/** A global's value with its exact bits. */
export type CapturedValue =
  | { valtype: 'i32'; value: number }
  | { valtype: 'i64'; value: bigint }
  | { valtype: 'f32'; bits: number }
  | { valtype: 'f64'; bits: bigint }
  | { valtype: 'v128'; lanes: [bigint, bigint] }
  /** A function by its index in the module's function space, or null. */
  | { valtype: 'funcref'; func: number | null }
  /** Only null is ever captured; any other externref is refused. */
  | { valtype: 'externref' };

export interface CapturedState {
  /** Memory 0: every byte and its size in pages; null when the module has no memory. */
  memory: { bytes: Uint8Array; pages: number } | null;
  /** Every defined mutable global. */
  globals: Map<number, CapturedValue>;
  /** Every defined table: per entry, a function index or null. */
  tables: Map<number, (number | null)[]>;
  /** Passive data segments found dropped. */
  droppedData: Set<number>;
  /** Passive element segments found dropped. */
  droppedElements: Set<number>;
}
