/**
 * Decodes a sequence of instructions (a function body after its locals, or a
 * constant expression) far enough to find the instructions the virtual-size
 * rewrite replaces, and every function index an instruction names.
 *
 * It knows every opcode of the core specification, sign extension,
 * saturating truncation, bulk memory, reference types, SIMD (with relaxed
 * SIMD), tail calls, typed function references and exception handling. It
 * refuses what it does not decode (GC and atomics prefixes, unknown opcodes)
 * with `UnsupportedInstruction`: the caller then leaves the module as it is
 * (a refusal, never a wrong rewrite).
 */
import { ByteReader } from './byte-reader.js';

/** An instruction the virtual-size rewrite cares about, with its byte range. */
export type InstructionSite =
  | { kind: 'memory.size' | 'memory.grow' | 'memory.fill' | 'memory.copy'; at: number; end: number }
  | { kind: 'memory.init'; at: number; end: number; segment: number }
  /** `call`, `return_call` or `ref.func`: `opcode` and the function index it names. */
  | { kind: 'function-index'; at: number; end: number; opcode: number; func: number };

export class UnsupportedInstruction extends Error {
  override readonly name = 'UnsupportedInstruction';
  constructor(
    readonly opcode: string,
    readonly offset: number,
  ) {
    super(`instruction ${opcode} at byte ${offset} is not decoded by the virtual-size rewrite`);
  }
}

/** `(ref null ht)` and `(ref ht)` as s33 values: a heap type follows. */
const REF_NULL = -29; // 0x63
const REF = -28; // 0x64

/** A value type (or block type): one s33, plus a heap type for the two reference forms. */
export function skipValueType(r: ByteReader): void {
  const t = r.s33('value type');
  if (t === REF_NULL || t === REF) r.s33('heap type');
}

function memarg(r: ByteReader): void {
  const flags = r.u32('memarg alignment');
  if ((flags & 0x40) !== 0) r.u32('memarg memory index');
  r.u64('memarg offset');
}

/** Opcodes 0x45..0xC4 and these carry no immediate. */
const PLAIN = new Set([0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4]);

function prefixedFC(r: ByteReader, at: number, sites: InstructionSite[]): void {
  const sub = r.u32('0xFC sub-opcode');
  switch (sub) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
      return;
    case 8: {
      const segment = r.u32('data index');
      r.u32('memory index');
      sites.push({ kind: 'memory.init', at, end: r.pos, segment });
      return;
    }
    case 9: case 13: case 15: case 16: case 17:
      r.u32('index');
      return;
    case 10:
      r.u32('memory index');
      r.u32('memory index');
      sites.push({ kind: 'memory.copy', at, end: r.pos });
      return;
    case 11:
      r.u32('memory index');
      sites.push({ kind: 'memory.fill', at, end: r.pos });
      return;
    case 12: case 14:
      r.u32('index');
      r.u32('index');
      return;
    default:
      throw new UnsupportedInstruction(`0xFC ${sub}`, at);
  }
}

function prefixedFD(r: ByteReader, at: number): void {
  const sub = r.u32('0xFD sub-opcode');
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r);
  else if (sub === 12 || sub === 13) r.skip(16, 'v128 immediate');
  else if (sub >= 21 && sub <= 34) r.u8('lane');
  else if (sub >= 84 && sub <= 91) {
    memarg(r);
    r.u8('lane');
  } else if (sub > 0x113) throw new UnsupportedInstruction(`0xFD ${sub}`, at);
}

/**
 * The sites in the instructions `[start, end)` of `bytes`, in order. Reads
 * to `end` (a function body's or constant expression's end).
 */
export function scanInstructions(bytes: Uint8Array, start: number, end: number): InstructionSite[] {
  const r = new ByteReader(bytes, start, end, 'instructions');
  const sites: InstructionSite[] = [];
  while (r.pos < end) {
    const at = r.pos;
    const op = r.u8('opcode');
    if (PLAIN.has(op) || (op >= 0x45 && op <= 0xc4)) continue;
    switch (op) {
      case 0x02: case 0x03: case 0x04: case 0x06:
        skipValueType(r);
        break;
      case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: case 0x14: case 0x15: case 0x18:
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0xd5: case 0xd6:
        r.u32('immediate');
        break;
      case 0x0e: {
        const n = r.count('br_table targets');
        for (let i = 0; i <= n; i++) r.u32('br_table target');
        break;
      }
      case 0x10: case 0x12: case 0xd2: {
        const func = r.u32('function index');
        sites.push({ kind: 'function-index', at, end: r.pos, opcode: op, func });
        break;
      }
      case 0x11: case 0x13:
        r.u32('type index');
        r.u32('table index');
        break;
      case 0x1c: {
        const n = r.count('select types');
        for (let i = 0; i < n; i++) skipValueType(r);
        break;
      }
      case 0x1f: {
        skipValueType(r);
        const n = r.count('catch clauses');
        for (let i = 0; i < n; i++) {
          const kind = r.u8('catch kind');
          if (kind <= 1) r.u32('tag index');
          else if (kind > 3) throw new UnsupportedInstruction(`try_table catch kind ${kind}`, at);
          r.u32('label');
        }
        break;
      }
      case 0x3f: case 0x40:
        r.u32('memory index');
        sites.push({ kind: op === 0x3f ? 'memory.size' : 'memory.grow', at, end: r.pos });
        break;
      case 0x41:
        r.s32('i32.const');
        break;
      case 0x42:
        r.s64('i64.const');
        break;
      case 0x43:
        r.skip(4, 'f32.const');
        break;
      case 0x44:
        r.skip(8, 'f64.const');
        break;
      case 0xd0:
        r.s33('heap type');
        break;
      case 0xfc:
        prefixedFC(r, at, sites);
        break;
      case 0xfd:
        prefixedFD(r, at);
        break;
      default:
        if (op >= 0x28 && op <= 0x3e) {
          memarg(r);
          break;
        }
        throw new UnsupportedInstruction(`0x${op.toString(16).padStart(2, '0')}`, at);
    }
  }
  return sites;
}
