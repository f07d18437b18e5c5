/**
 * The snapshot section's synthetic module: an initializer that fills 4 MiB
 * of memory, sets an i32, an i64 and an f64 global and (optionally) 8 table
 * entries — the work a tenant of a snapshot no longer does.
 *
 *   f0..f7 () → i32 (return k) · init () · noop () · read () → i32 (a word of memory + global 0)
 *   memory 65 pages · table 16 funcref · globals i32, i64, f64 (mutable) · declarative elem f0..f7
 *
 * `withTable: false` leaves the table alone: Wizer refuses `ref.func`, and
 * that variant is the one compared with Wizer's output.
 */
import { ByteWriter } from '../wasm/byte-writer.js';

export const SNAPSHOT_FILL_BYTES = 4 * 1024 * 1024;
const FUNCS = 8;

function vector(items: Uint8Array[]): Uint8Array {
  const w = new ByteWriter().u32(items.length);
  for (const item of items) w.bytes(item);
  return w.finish();
}

function bytes(build: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  build(w);
  return w.finish();
}

function body(locals: Uint8Array, code: (w: ByteWriter) => void): Uint8Array {
  const inner = bytes((w) => {
    w.bytes(locals);
    code(w);
    w.u8(0x0b);
  });
  return bytes((w) => w.u32(inner.length).bytes(inner));
}

export function snapshotInitModule(options: { withTable: boolean }): Uint8Array {
  const INIT = FUNCS;
  const types = [Uint8Array.of(0x60, 0, 0), Uint8Array.of(0x60, 0, 1, 0x7f)];
  const functionTypes = [...Array.from({ length: FUNCS }, () => Uint8Array.of(1)), Uint8Array.of(0), Uint8Array.of(0), Uint8Array.of(1)];
  const code: Uint8Array[] = [];
  for (let k = 0; k < FUNCS; k++) code.push(body(Uint8Array.of(0), (w) => w.u8(0x41).s32(k)));
  code.push(body(Uint8Array.of(1, 1, 0x7f), (w) => {
    // for (i = 0; i < 4 MiB; i += 4) mem[i] = i * 0x9e3779b1 | 1
    w.u8(0x02).u8(0x40).u8(0x03).u8(0x40);
    w.u8(0x20).u8(0).u8(0x41).s32(SNAPSHOT_FILL_BYTES).u8(0x4f).u8(0x0d).u8(1);
    w.u8(0x20).u8(0).u8(0x20).u8(0).u8(0x41).s32(0x9e3779b1).u8(0x6c).u8(0x41).s32(1).u8(0x72).u8(0x36).u8(2).u8(0);
    w.u8(0x20).u8(0).u8(0x41).s32(4).u8(0x6a).u8(0x21).u8(0);
    w.u8(0x0c).u8(0).u8(0x0b).u8(0x0b);
    w.u8(0x41).s32(7).u8(0x24).u8(0);
    w.u8(0x42).s64(123_456_789n).u8(0x24).u8(1);
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, 2.5, true);
    w.u8(0x44).bytes(f64).u8(0x24).u8(2);
    if (options.withTable) {
      for (let k = 0; k < FUNCS; k++) w.u8(0x41).s32(k).u8(0xd2).u32(k).u8(0x26).u8(0);
    }
  }));
  code.push(body(Uint8Array.of(0), () => {}));
  code.push(body(Uint8Array.of(0), (w) => w.u8(0x41).s32(4096).u8(0x28).u8(2).u8(0).u8(0x23).u8(0).u8(0x6a)));

  const exports = [
    bytes((w) => w.name('memory').u8(2).u32(0)),
    bytes((w) => w.name('init').u8(0).u32(INIT)),
    bytes((w) => w.name('noop').u8(0).u32(INIT + 1)),
    bytes((w) => w.name('read').u8(0).u32(INIT + 2)),
  ];
  const zero8 = new Uint8Array(8);
  const globals = [
    Uint8Array.of(0x7f, 1, 0x41, 0, 0x0b),
    Uint8Array.of(0x7e, 1, 0x42, 0, 0x0b),
    bytes((w) => w.u8(0x7c).u8(1).u8(0x44).bytes(zero8).u8(0x0b)),
  ];
  const w = new ByteWriter(1024).bytes(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
  w.section(1, vector(types));
  w.section(3, vector(functionTypes));
  w.section(4, vector([Uint8Array.of(0x70, 0, 16)]));
  w.section(5, vector([Uint8Array.of(0, 65)]));
  w.section(6, vector(globals));
  w.section(7, vector(exports));
  w.section(9, vector([bytes((e) => {
    e.u8(3).u8(0).u32(FUNCS);
    for (let k = 0; k < FUNCS; k++) e.u32(k);
  })]));
  w.section(10, vector(code));
  return w.finish();
}
