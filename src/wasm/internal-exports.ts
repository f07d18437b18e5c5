/**
 * The exports `exportInternals` adds so the `reuse` strategy can snapshot and
 * restore instance state JS could not otherwise reach: every defined mutable
 * global and every defined table, under reserved names.
 */
import type { ExportInfo, ModuleInfo } from './module-info.js';
import type { LayoutInternals } from './prepared-layout.js';

export const INTERNAL_GLOBAL_PREFIX = '__cowpool_global_';
export const INTERNAL_TABLE_PREFIX = '__cowpool_table_';

/** Why JS cannot hold values of `valtype`, or null when it can. */
function unreachableFromJs(valtype: string): string | null {
  if (valtype === 'v128') return 'JS cannot read or write v128 values (WebAssembly.Global.value throws TypeError)';
  if (valtype === 'exnref' || valtype === 'nullexnref' || /^\(ref (null )?(exn|noexn)\)$/.test(valtype)) {
    return 'JS cannot hold exception references';
  }
  return null;
}

/**
 * The exports to append and their description. A reserved name the module
 * already uses gets a `_<n>` suffix, so the names stay unique and `internals`
 * always tells the truth about them.
 */
export function planInternalExports(info: ModuleInfo): { exports: ExportInfo[]; internals: LayoutInternals } {
  const taken = new Set(info.exports.map((e) => e.name));
  const unique = (base: string): string => {
    let name = base;
    for (let n = 1; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return name;
  };

  const exports: ExportInfo[] = [];
  const internals: LayoutInternals = { globals: [], tables: [], omittedGlobals: [] };
  for (const g of info.globals) {
    if (g.imported || !g.mutable) continue;
    const reason = unreachableFromJs(g.valtype);
    if (reason !== null) {
      internals.omittedGlobals.push({ index: g.index, valtype: g.valtype, reason });
      continue;
    }
    const exportName = unique(`${INTERNAL_GLOBAL_PREFIX}${g.index}`);
    exports.push({ name: exportName, kind: 'global', index: g.index });
    internals.globals.push({ exportName, index: g.index, valtype: g.valtype });
  }
  for (const t of info.tables) {
    if (t.imported) continue;
    const exportName = unique(`${INTERNAL_TABLE_PREFIX}${t.index}`);
    exports.push({ name: exportName, kind: 'table', index: t.index });
    internals.tables.push({ exportName, index: t.index });
  }
  return { exports, internals };
}
