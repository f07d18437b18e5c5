import { describe, expect, it } from 'vitest';
import { runNativeChild } from './helpers/native-child.js';

// A stale view reaching a page that is gone (unmapped) or past a file's end
// would kill the process (SIGSEGV, SIGBUS): these run in a child so a
// regression shows as a signal.
describe('raw slots: stale buffers are detached, never dangerous', () => {
  it('a view kept across grow, reset, reconfigure and destroy reads length 0 and does not crash', () => {
    const r = runNativeChild(`
      const slot = new addon.RawSlot(1 << 20, 1 << 16);
      slot.configure(new addon.Image(new Uint8Array(5000).fill(3)), 1 << 18);
      const out = [];
      let view = new Uint8Array(slot.buffer());
      view[10] = 1;
      slot.grow(1 << 19);
      out.push(view.length, view[10], view[(1 << 18) + 5]);
      view = new Uint8Array(slot.buffer());
      view[(1 << 19) - 1] = 7;
      slot.reset(0, 0, 1 << 16);
      // The slot is now 64 KiB: a stale view over 512 KiB would reach past it.
      out.push(view.length, view[(1 << 19) - 1]);
      view = new Uint8Array(slot.buffer());
      slot.configure(null, 1 << 12);
      out.push(view.length);
      view = new Uint8Array(slot.buffer());
      const dv = new DataView(slot.buffer());
      slot.destroy();
      out.push(view.length, view[0]);
      let threw = false;
      try { dv.getUint8(0); } catch { threw = true; }
      out.push(threw);
      console.log(JSON.stringify(out));
    `);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // JSON turns the undefined reads of detached views into null.
    expect(JSON.parse(r.stdout)).toEqual([0, null, null, 0, null, 0, 0, null, true]);
  });

  it('a slot garbage-collected while its buffer lives keeps the pages mapped', () => {
    const r = runNativeChild(`
      let view;
      (function () {
        const slot = new addon.RawSlot(1 << 20, 0);
        slot.configure(null, 1 << 16);
        view = new Uint8Array(slot.buffer());
        view.fill(5);
      })();
      for (let i = 0; i < 5; i++) global.gc();
      setTimeout(() => {
        global.gc();
        let sum = 0;
        for (let i = 0; i < view.length; i++) sum += view[i];
        console.log(sum);
      }, 20);
    `, {}, ['--expose-gc']);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(String(5 * (1 << 16)));
  });
});
