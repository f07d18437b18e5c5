/**
 * Constant expressions (global initialisers, segment offsets, element items):
 * reading them into an instruction list, and evaluating the ones that compute
 * an i32 from constants alone.
 *
 * The reader accepts every instruction some proposal allows in a constant
 * expression (extended-const arithmetic, GC allocation, SIMD constants) so
 * such modules parse; only the i32 evaluator gives them meaning.
 */
import type { ByteReader } from './byte-reader.js';
import { readHeapType } from './value-type.js';

export type ConstInstr =
  | { op: 'i32.const'; value: number }
  | { op: 'i64.const'; value: bigint }
  | { op: 'f32.const' }
  | { op: 'f64.const' }
  | { op: 'v128.const' }
  | { op: 'global.get'; index: number }
  | { op: 'ref.null'; heapType: string }
  | { op: 'ref.func'; index: number }
  | { op: 'i32.add' | 'i32.sub' | 'i32.mul' | 'i64.add' | 'i64.sub' | 'i64.mul' }
  /** A GC-proposal instruction (struct.new, array.new_fixed, ref.i31, ...); only its name is kept. */
  | { op: 'gc'; name: string };

export interface ConstExpr {
  /** Offset of the first instruction byte. */
  start: number;
  /** Offset one past the terminating `end` (0x0b). */
  end: number;
  /** The instructions, without the final `end`. */
  instrs: ConstInstr[];
}

const SIMPLE: Record<number, ConstInstr> = {
  0x6a: { op: 'i32.add' },
  0x6b: { op: 'i32.sub' },
  0x6c: { op: 'i32.mul' },
  0x7c: { op: 'i64.add' },
  0x7d: { op: 'i64.sub' },
  0x7e: { op: 'i64.mul' },
};

/** GC-prefixed (0xfb) constant instructions and how many u32 immediates each has. */
const GC_CONST: Record<number, { name: string; immediates: number }> = {
  0x00: { name: 'struct.new', immediates: 1 },
  0x01: { name: 'struct.new_default', immediates: 1 },
  0x06: { name: 'array.new', immediates: 1 },
  0x07: { name: 'array.new_default', immediates: 1 },
  0x08: { name: 'array.new_fixed', immediates: 2 },
  0x1a: { name: 'any.convert_extern', immediates: 0 },
  0x1b: { name: 'extern.convert_any', immediates: 0 },
  0x1c: { name: 'ref.i31', immediates: 0 },
};

const END = 0x0b;

/** Read one constant expression up to and including its `end`. */
export function readConstExpr(r: ByteReader, field: string): ConstExpr {
  const start = r.pos;
  const instrs: ConstInstr[] = [];
  for (;;) {
    const at = r.pos;
    const opcode = r.u8(field);
    if (opcode === END) return { start, end: r.pos, instrs };
    switch (opcode) {
      case 0x41:
        instrs.push({ op: 'i32.const', value: r.s32(field) });
        break;
      case 0x42:
        instrs.push({ op: 'i64.const', value: r.s64(field) });
        break;
      case 0x43:
        r.skip(4, field);
        instrs.push({ op: 'f32.const' });
        break;
      case 0x44:
        r.skip(8, field);
        instrs.push({ op: 'f64.const' });
        break;
      case 0x23:
        instrs.push({ op: 'global.get', index: r.u32(field) });
        break;
      case 0xd0:
        instrs.push({ op: 'ref.null', heapType: readHeapType(r, field) });
        break;
      case 0xd2:
        instrs.push({ op: 'ref.func', index: r.u32(field) });
        break;
      case 0xfd: {
        const sub = r.u32(field);
        if (sub !== 0x0c) throw r.error(field, `SIMD instruction 0xfd ${sub} is not allowed in a constant expression`, at);
        r.skip(16, field);
        instrs.push({ op: 'v128.const' });
        break;
      }
      case 0xfb: {
        const sub = r.u32(field);
        const gc = GC_CONST[sub];
        if (gc === undefined) throw r.error(field, `GC instruction 0xfb ${sub} is not allowed in a constant expression`, at);
        for (let i = 0; i < gc.immediates; i++) r.u32(field);
        instrs.push({ op: 'gc', name: gc.name });
        break;
      }
      default: {
        const simple = SIMPLE[opcode];
        if (simple === undefined) {
          throw r.error(field, `opcode 0x${opcode.toString(16).padStart(2, '0')} is not allowed in a constant expression (or the expression lacks its end byte 0x0b)`, at);
        }
        instrs.push(simple);
      }
    }
  }
}

export type I32Evaluation =
  | { constant: true; /** The value as an unsigned 32-bit integer (how offsets use it). */ value: number }
  | { constant: false; /** Which instruction made it non-constant, for people. */ reason: string };

/**
 * The value of an i32 expression built only from `i32.const`, `i32.add`,
 * `i32.sub` and `i32.mul` (wrapping, as wasm does). Anything else, notably
 * `global.get` of an imported base address, is not constant here.
 */
export function evaluateI32(expr: ConstExpr): I32Evaluation {
  const stack: number[] = [];
  for (const instr of expr.instrs) {
    switch (instr.op) {
      case 'i32.const':
        stack.push(instr.value | 0);
        break;
      case 'i32.add':
      case 'i32.sub':
      case 'i32.mul': {
        const b = stack.pop();
        const a = stack.pop();
        if (a === undefined || b === undefined) return { constant: false, reason: `${instr.op} with fewer than two operands` };
        stack.push(instr.op === 'i32.add' ? (a + b) | 0 : instr.op === 'i32.sub' ? (a - b) | 0 : Math.imul(a, b));
        break;
      }
      case 'global.get':
        return { constant: false, reason: `global.get ${instr.index}` };
      default:
        return { constant: false, reason: instr.op === 'gc' ? instr.name : instr.op };
    }
  }
  const [value, ...rest] = stack;
  if (value === undefined || rest.length > 0) return { constant: false, reason: `the expression leaves ${stack.length} values` };
  return { constant: true, value: value >>> 0 };
}

/** The function index when the expression is exactly `ref.func i`, else null. */
export function refFuncIndex(expr: ConstExpr): number | null {
  const [only, ...rest] = expr.instrs;
  return only !== undefined && rest.length === 0 && only.op === 'ref.func' ? only.index : null;
}
