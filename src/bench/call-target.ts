/**
 * Which export `call_empty_function` calls. A module of ours exports `noop`;
 * a third-party module (minified names) usually has no no-op, so the
 * cheapest stand-in is an exported function without parameters whose body
 * is a few instructions that cannot call, loop or touch memory — Emscripten's
 * stack-pointer getter (`global.get 0; end`) is the typical find. Anything
 * else is skipped with a note rather than guessed: calling an arbitrary
 * export could run for seconds or trap.
 */
import { ByteReader } from '../wasm/byte-reader.js';
import { SECTION_ID, splitSections } from '../wasm/module-sections.js';
import type { PreparedLayout } from '../wasm/prepared-layout.js';

export interface CallTarget {
  /** The export to call with no arguments. */
  name: string;
  /** Why this one, for the report. */
  how: string;
}

/** Opcodes a trivial body may use: no control flow but `end`/`return`, no calls, no memory access. */
const TRIVIAL_OPS: Readonly<Record<number, 'none' | 'u32' | 's32' | 's64' | 'f32' | 'f64'>> = {
  0x01: 'none', // nop
  0x0f: 'none', // return
  0x1a: 'none', // drop
  0x20: 'u32', // local.get
  0x21: 'u32', // local.set
  0x22: 'u32', // local.tee
  0x23: 'u32', // global.get
  0x24: 'u32', // global.set
  0x41: 's32', // i32.const
  0x42: 's64', // i64.const
  0x43: 'f32', // f32.const
  0x44: 'f64', // f64.const
};

/** Instructions of a body when every one is trivial (see TRIVIAL_OPS), else null. */
function trivialInstructionCount(r: ByteReader, field: string): number | null {
  let count = 0;
  while (r.remaining > 1) {
    const op = r.u8(field);
    const immediate = TRIVIAL_OPS[op];
    if (immediate === undefined) return null;
    if (immediate === 'u32') r.u32(field);
    else if (immediate === 's32') r.s32(field);
    else if (immediate === 's64') r.s64(field);
    else if (immediate === 'f32') r.skip(4, field);
    else if (immediate === 'f64') r.skip(8, field);
    count++;
  }
  // The single `end` closes the function: there is no block to close.
  return r.remaining === 1 && r.u8(field) === 0x0b ? count : null;
}

/**
 * Defined functions whose body is trivial, by function index, with their
 * instruction count. Bytes the parser already accepted are read again here,
 * so a failure only means "not trivial".
 */
function trivialFunctions(bytes: Uint8Array, importedFunctions: number): Map<number, number> {
  const found = new Map<number, number>();
  const code = splitSections(bytes).find((s) => s.id === SECTION_ID.code);
  if (code === undefined) return found;
  const r = new ByteReader(bytes, code.contentStart, code.end, 'code section');
  const count = r.u32('function body count');
  for (let i = 0; i < count; i++) {
    const size = r.u32('function body size');
    const body = r.sub(size, 'function body', `function body ${i}`);
    try {
      const localGroups = body.u32('locals');
      for (let g = 0; g < localGroups; g++) {
        body.u32('local count');
        const type = body.u8('local type');
        // A reference type names its heap type after the byte.
        if (type === 0x63 || type === 0x64) body.s33('heap type');
      }
      const instructions = trivialInstructionCount(body, 'instruction');
      if (instructions !== null) found.set(importedFunctions + i, instructions);
    } catch {
      // A body this small reader cannot follow is simply not trivial.
    }
  }
  return found;
}

/**
 * The export to call for `call_empty_function`, or null when the module has
 * none that is safe to call. `instance` supplies the parameter counts
 * (a wasm function's `length` is its parameter count).
 */
export function findCallTarget(originalBytes: Uint8Array, layout: PreparedLayout, instance: WebAssembly.Instance): CallTarget | null {
  const trivial = trivialFunctions(originalBytes, layout.functions.imported);
  const candidates = layout.exports
    .filter((e) => e.kind === 'function' && trivial.has(e.index))
    .filter((e) => {
      const fn = instance.exports[e.name];
      return typeof fn === 'function' && fn.length === 0;
    })
    .map((e) => ({ name: e.name, instructions: trivial.get(e.index) as number }));
  const noop = candidates.find((c) => c.name === 'noop' && c.instructions === 0);
  if (noop !== undefined) return { name: noop.name, how: 'the exported no-op' };
  if (candidates.length === 0) return null;
  // Fewest instructions first; ties keep export order.
  const best = candidates.reduce((a, b) => (b.instructions < a.instructions ? b : a));
  const empty = best.instructions === 0;
  return {
    name: best.name,
    how: empty
      ? `export ${JSON.stringify(best.name)}, an empty function`
      : `export ${JSON.stringify(best.name)}, the cheapest export without parameters (${best.instructions} instruction${best.instructions === 1 ? '' : 's'}, no calls or memory access); the module has no empty export`,
  };
}
