/**
 * The state the `reuse` strategy rewinds besides memory: defined mutable
 * globals and defined tables, read through the reserved exports the rewrite
 * adds (`__cowpool_global_<i>`, `__cowpool_table_<i>`).
 *
 * What it cannot rewind — effects of the start function on memory, passive
 * segments dropped by `data.drop` / `elem.drop`, globals JS cannot hold —
 * makes a module refuse reuse at prepare (src/wasm/reuse-eligibility.ts):
 * its instance is never kept. A grown table makes the pool drop the
 * instance, and so does a tenant passing other import values (see
 * InstancePool). State held by imports stays the host's.
 */
import type { LayoutInternals } from '../wasm/prepared-layout.js';
import type { VirtualSizeLayout } from '../wasm/virtual-size-rewrite.js';

interface GlobalState {
  global: WebAssembly.Global;
  value: unknown;
}

interface TableState {
  table: WebAssembly.Table;
  entries: unknown[];
}

export class InstanceSnapshot {
  private constructor(
    private readonly globals: GlobalState[],
    private readonly tables: TableState[],
    /** False when a float global starts as a NaN: JS reads and writes NaNs canonicalized, so its payload could not be put back. */
    private readonly exact: boolean,
  ) {}

  /** Records the instance's globals and tables as they are now (right after instantiation). */
  static take(instance: WebAssembly.Instance, internals: LayoutInternals | null, virtualSize: VirtualSizeLayout | null = null): InstanceSnapshot {
    const globals: GlobalState[] = [];
    const tables: TableState[] = [];
    // The virtual size goes back to the initial size with the rest.
    if (virtualSize !== null) globals.push({ global: instance.exports[virtualSize.vsizeExport] as WebAssembly.Global, value: virtualSize.initialPages });
    for (const g of internals?.globals ?? []) {
      const global = instance.exports[g.exportName] as WebAssembly.Global;
      globals.push({ global, value: global.value });
    }
    for (const t of internals?.tables ?? []) {
      const table = instance.exports[t.exportName] as WebAssembly.Table;
      const entries: unknown[] = new Array(table.length);
      for (let i = 0; i < table.length; i++) entries[i] = table.get(i);
      tables.push({ table, entries });
    }
    const exact = globals.every((g) => !(typeof g.value === 'number' && Number.isNaN(g.value)));
    return new InstanceSnapshot(globals, tables, exact);
  }

  /** True when the instance can still be rewound exactly (no table grew, no global starts as a NaN). */
  restorable(): boolean {
    return this.exact && this.tables.every((t) => t.table.length === t.entries.length);
  }

  /** Puts every recorded global and table entry back. */
  restore(): void {
    for (const g of this.globals) g.global.value = g.value;
    for (const t of this.tables) {
      for (let i = 0; i < t.entries.length; i++) {
        if (t.table.get(i) !== t.entries[i]) t.table.set(i, t.entries[i]);
      }
    }
  }
}
