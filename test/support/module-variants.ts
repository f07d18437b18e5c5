/**
 * Many distinct modules cheaply: one assembled module whose data segment
 * starts with a 4-byte marker, copied with the marker replaced by a number.
 */
import { watModule } from '../helpers/wat-module.js';

const MARKER = [0x7e, 0x7e, 0x7e, 0x7e];

/** Module `i` of a family: the same code, a data segment holding `i` (little-endian) in its first 4 bytes. */
export async function moduleVariants(): Promise<(i: number) => Uint8Array> {
  const base = await watModule(`(module (memory (export "memory") 1) (data (i32.const 0) "~~~~")
    (func (export "put") (param i32) (i32.store8 (i32.const 100) (local.get 0))))`);
  const at = base.findIndex((_, k) => MARKER.every((b, j) => base[k + j] === b));
  if (at < 0) throw new Error('module-variants: marker not found');
  return (i) => {
    const bytes = base.slice();
    new DataView(bytes.buffer).setUint32(at, i, true);
    return bytes;
  };
}
