/**
 * Whether the `reuse` strategy can rewind a module's instance to exactly what
 * a fresh instance is, decided from the module's bytes at prepare. The rewind
 * restores memory to the image, every defined mutable global and every
 * defined table's entries; what it cannot restore makes the module refuse:
 *
 * - `data-drop` / `elem-drop`: a passive segment dropped by one tenant stays
 *   dropped (the next tenant's memory.init / table.init would trap). Found
 *   without decoding every instruction: `data.drop` is encoded as the bytes
 *   0xFC 0x09 and `elem.drop` as 0xFC 0x0D, so code without those byte pairs
 *   has neither; code with them may (refused, never missed). A drop of an
 *   active or declarative segment changes nothing (they are dropped while
 *   instantiating), so only modules with passive segments are looked at.
 * - `start-function`: the start function's writes to memory are not in the
 *   image the memory is restored to. One shape is known exact: a start
 *   function that only zeroes a constant range (`memory.fill` with 0, what
 *   LLVM emits to clear .bss) over bytes the image already has as zeros.
 * - `unrestorable-global`: a mutable global JS cannot read or write (v128,
 *   exception references), so it cannot be put back.
 * - `reference-state`: a global or table of a GC reference type (struct,
 *   array, any, eq): restoring the reference does not restore the fields a
 *   tenant wrote through it.
 *
 * What no module-level rule can cover stays outside (SECURITY.md): state held
 * by the host (its import functions, imported globals and tables), and side
 * channels.
 */
import type { ModuleInfo } from './module-info.js';
import { SECTION_ID } from './module-sections.js';
import { ByteReader } from './byte-reader.js';
import { parseModule } from './parse-module.js';

export const REUSE_REFUSALS = ['data-drop', 'elem-drop', 'start-function', 'unrestorable-global', 'reference-state'] as const;
export type ReuseRefusalReason = (typeof REUSE_REFUSALS)[number];

export interface ReuseRefusal {
  reason: ReuseRefusalReason;
  /** For people: what in the module is at fault. */
  detail: string;
}

/** Value and reference types whose restored value is the whole state. */
const RESTORABLE_TYPES = new Set([
  'i32', 'i64', 'f32', 'f64', 'v128',
  'funcref', 'externref', 'nullfuncref', 'nullexternref', 'nullref',
  '(ref func)', '(ref null func)', '(ref extern)', '(ref null extern)', '(ref nofunc)', '(ref null nofunc)', '(ref noextern)', '(ref null noextern)',
  'i31ref', '(ref i31)', '(ref null i31)',
]);

/** True when `code` holds the byte pair 0xFC `op`. */
function hasPrefixedOp(bytes: Uint8Array, start: number, end: number, op: number): boolean {
  for (let i = bytes.indexOf(0xfc, start); i !== -1 && i + 1 < end; i = bytes.indexOf(0xfc, i + 1)) {
    if (bytes[i + 1] === op) return true;
  }
  return false;
}

/**
 * The range a start function zeroes when its whole body is
 * `i32.const A; i32.const 0; i32.const N; memory.fill 0; end` with no locals;
 * null for any other body.
 */
function zeroFillOfStart(bytes: Uint8Array, info: ModuleInfo): { at: number; length: number } | null {
  const code = info.sections.find((s) => s.id === SECTION_ID.code);
  const defined = (info.start ?? -1) - info.functions.imported;
  if (code === undefined || defined < 0) return null;
  try {
    const r = new ByteReader(bytes, code.contentStart, code.end, 'code section');
    const count = r.u32('function body count');
    if (defined >= count) return null;
    for (let i = 0; i < defined; i++) r.skip(r.u32('function body size'), 'function body');
    const size = r.u32('function body size');
    const body = r.sub(size, 'start function body', 'start function');
    const op = (expected: number): boolean => body.u8('opcode') === expected;
    if (!op(0x00)) return null; // no local declarations
    if (!op(0x41)) return null;
    const at = body.s32('address') >>> 0;
    if (!op(0x41) || body.s32('value') !== 0) return null;
    if (!op(0x41)) return null;
    const length = body.s32('length') >>> 0;
    if (!op(0xfc) || body.u32('bulk opcode') !== 0x0b || body.u32('memory index') !== 0 || !op(0x0b)) return null;
    return body.pos === body.end ? { at, length } : null;
  } catch {
    return null;
  }
}

/**
 * Every reason the rewind cannot make an instance of `bytes` fresh; empty
 * when reuse is exact. `image` is memory 0's initial bytes (see
 * PreparedLayout.image; zeros past its end).
 */
export function reuseRefusals(bytes: Uint8Array, image: Uint8Array = new Uint8Array(0), parsed?: ModuleInfo): ReuseRefusal[] {
  const info = parsed ?? parseModule(bytes);
  const refusals: ReuseRefusal[] = [];
  const code = info.sections.find((s) => s.id === SECTION_ID.code);
  const codeHas = (op: number): boolean => code !== undefined && hasPrefixedOp(bytes, code.contentStart, code.end, op);
  const passiveData = info.data.filter((d) => d.mode === 'passive').length;
  if (passiveData > 0 && codeHas(0x09)) {
    refusals.push({ reason: 'data-drop', detail: `the code may run data.drop on one of its ${passiveData} passive data segment(s); a dropped segment stays dropped for the next tenant` });
  }
  const passiveElems = info.elements.filter((e) => e.mode === 'passive').length;
  if (passiveElems > 0 && codeHas(0x0d)) {
    refusals.push({ reason: 'elem-drop', detail: `the code may run elem.drop on one of its ${passiveElems} passive element segment(s); a dropped segment stays dropped for the next tenant` });
  }
  const fill = info.start === null ? null : zeroFillOfStart(bytes, info);
  const fillIsNoOp = fill !== null && image.subarray(fill.at, fill.at + fill.length).every((b) => b === 0);
  if (info.start !== null && !fillIsNoOp) {
    refusals.push({ reason: 'start-function', detail: `function ${info.start} runs at instantiation; its writes to memory are not in the image the rewind restores` });
  }
  for (const g of info.globals) {
    if (g.imported) continue;
    if (g.mutable && (g.valtype === 'v128' || /exn/.test(g.valtype))) {
      refusals.push({ reason: 'unrestorable-global', detail: `global ${g.index} is a mutable ${g.valtype}, which JS cannot read or write back` });
    } else if (!RESTORABLE_TYPES.has(g.valtype) && !/exn/.test(g.valtype)) {
      refusals.push({ reason: 'reference-state', detail: `global ${g.index} holds a ${g.valtype}; restoring the reference does not restore what a tenant wrote through it` });
    }
  }
  for (const t of info.tables) {
    if (t.imported || RESTORABLE_TYPES.has(t.elemType)) continue;
    refusals.push({ reason: 'reference-state', detail: `table ${t.index} holds ${t.elemType}; restoring the references does not restore what a tenant wrote through them` });
  }
  return refusals;
}
