import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { watModule } from './helpers/wat-module.js';

const WASM_PAGE = 65536;

/** The permission string of the mapping containing `address`, or null. */
function permsAt(address: bigint): string | null {
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    if (!line) continue;
    const [range, perms] = line.split(/\s+/) as [string, string];
    const [start, end] = range.split('-').map((h) => BigInt(`0x${h}`)) as [bigint, bigint];
    if (start <= address && address < end) return perms;
  }
  return null;
}

describe('DESIGN invariant 1: nothing becomes accessible outside [base, base + byteLength)', () => {
  it('refuses an image longer than the memory and maps nothing', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const image = new (addon().Image)(new Uint8Array(WASM_PAGE + 1).fill(7));
    try {
      expect(() => addon().mapImage(memory.buffer, image, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(new Uint8Array(memory.buffer).every((b) => b === 0)).toBe(true);
      const base = addon().memoryAddress(memory.buffer);
      expect(permsAt(base + BigInt(WASM_PAGE))).toBe('---p');
    } finally {
      image.release();
    }
  });

  it('an image as long as the memory leaves the page after it PROT_NONE, and wasm traps there', async () => {
    const bytes = await watModule(`(module (import "m" "memory" (memory 1 2))
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const image = new (addon().Image)(new Uint8Array(WASM_PAGE).fill(9));
    try {
      addon().mapImage(memory.buffer, image, 0);
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { memory } });
      const load = instance.exports.load as (a: number) => number;
      expect(load(WASM_PAGE - 1)).toBe(9);
      expect(() => load(WASM_PAGE)).toThrow(WebAssembly.RuntimeError);
      const base = addon().memoryAddress(memory.buffer);
      expect(permsAt(base + BigInt(WASM_PAGE - 4096))).toMatch(/^rw/);
      expect(permsAt(base + BigInt(WASM_PAGE))).toBe('---p');
      // Growing still works in place and the new page is zero, not image.
      expect(memory.grow(1)).toBe(1);
      expect(load(WASM_PAGE)).toBe(0);
      expect(addon().memoryAddress(memory.buffer)).toBe(base);
    } finally {
      image.release();
    }
  });
});

describe('DESIGN invariant 3: the data pointer is read afresh and a detached buffer is refused', () => {
  it('refuses a buffer detached by memory.grow', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const stale = memory.buffer;
    memory.grow(1);
    expect(stale.byteLength).toBe(0);
    const image = new (addon().Image)(new Uint8Array([1, 2, 3]));
    try {
      expect(() => addon().mapImage(stale, image, 0)).toThrow(/detached/);
      expect(() => addon().resetMemory(stale, image, 0, 0)).toThrow(/detached/);
      // The current buffer works.
      addon().mapImage(memory.buffer, image, 0);
      expect(new Uint8Array(memory.buffer)[2]).toBe(3);
    } finally {
      image.release();
    }
  });

  it('refuses what is not a memory buffer', () => {
    const image = new (addon().Image)(new Uint8Array([1]));
    try {
      expect(() => addon().mapImage(new Uint8Array(4096) as unknown as ArrayBuffer, image, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      // A plain ArrayBuffer is not page-aligned in general; an aligned one of
      // the wrong kind is still refused when the image does not fit.
      expect(() => addon().mapImage(new ArrayBuffer(16), image, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => addon().mapImage(new WebAssembly.Memory({ initial: 1 }).buffer, {} as never, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    } finally {
      image.release();
    }
  });

  it('the virtual-size primitives (protectMemory, releaseTail, aliasMemory) refuse any range past byteLength and open nothing', () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 4 });
    const base = addon().memoryAddress(memory.buffer);
    const past = BigInt(2 * WASM_PAGE);
    const refused = expect.objectContaining({ code: 'INVALID_ARGUMENT' });
    expect(() => addon().protectMemory(memory.buffer, WASM_PAGE, 3 * WASM_PAGE, true)).toThrow(refused);
    expect(() => addon().protectMemory(memory.buffer, 2 * WASM_PAGE, 2 * WASM_PAGE + 4096, true)).toThrow(refused);
    expect(() => addon().protectMemory(memory.buffer, WASM_PAGE + 1, 2 * WASM_PAGE, false)).toThrow(refused);
    expect(() => addon().releaseTail(memory.buffer, 2 * WASM_PAGE, 0, 0)).toThrow(refused);
    expect(() => addon().releaseTail(memory.buffer, 0, 0, 0)).toThrow(refused);
    expect(() => addon().aliasMemory(memory, 3 * WASM_PAGE)).toThrow(refused);
    expect(permsAt(base + past)).toBe('---p');
    // Inside the buffer they work, and closing then opening gives V8's pages back.
    addon().protectMemory(memory.buffer, WASM_PAGE, 2 * WASM_PAGE, false);
    expect(permsAt(base + BigInt(WASM_PAGE))).toBe('---p');
    addon().protectMemory(memory.buffer, WASM_PAGE, 2 * WASM_PAGE, true);
    expect(permsAt(base + BigInt(WASM_PAGE))).toBe('rw-p');
    expect(permsAt(base + past)).toBe('---p');
    const alias = addon().aliasMemory(memory, WASM_PAGE);
    expect(alias.byteLength).toBe(WASM_PAGE);
    expect(addon().detachAlias(alias)).toBe(true);
    expect(alias.byteLength).toBe(0);
  });
});
