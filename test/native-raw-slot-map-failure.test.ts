import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';

afterEach(() => addon().injectFault(null));

describe('raw slot: a failed image map leaves memory that reset still clears', () => {
  it('bytes written after a failed configure are gone after the next reset', () => {
    const { Image, RawSlot } = addon();
    const slot = new RawSlot(1 << 20, 1 << 16);
    const first = new Image(new Uint8Array(8192).fill(1));
    const second = new Image(new Uint8Array(8192).fill(2));
    try {
      slot.configure(first, 1 << 16);
      // Configure remaps the slot memfd over the old image (1st mmap), then
      // maps the new image (2nd mmap): fail the second.
      addon().injectFault('mmap', 1, 1, 'ENOMEM');
      expect(() => slot.configure(second, 1 << 16)).toThrow(expect.objectContaining({ code: 'SYSCALL_FAILED', errno: 'ENOMEM' }));
      expect(addon().injectedFaults()).toBeGreaterThan(0);
      // The range is mapped (no hole) and, whatever it holds, a reset clears it.
      const view = new Uint8Array(slot.buffer());
      view.fill(0xee, 0, 8192);
      slot.reset(0, 0, 1 << 16);
      const after = new Uint8Array(slot.buffer());
      expect(after.subarray(0, 8192).every((b) => b === 0)).toBe(true);
    } finally {
      slot.destroy();
      first.release();
      second.release();
    }
  });
});
