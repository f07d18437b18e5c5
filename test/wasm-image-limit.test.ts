import { describe, expect, it } from 'vitest';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { watModule } from './helpers/wat-module.js';

describe('prepareLayout maxImageBytes', () => {
  it('falls back before allocating an image a few bytes of module ask to be gigabytes long', async () => {
    // 65536 pages (4 GiB) and 4 bytes of data at its very end: a 4 GiB image.
    const bytes = await watModule('(module (memory 65536) (data (i32.const 0xfffffff0) "tail"))');
    const before = process.memoryUsage().arrayBuffers;
    const layout = prepareLayout(bytes, { maxImageBytes: 1 << 20 });
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(layout.cow).toBe(false);
    expect(layout.fallbackReason).toBe('image-over-limit');
    expect(layout.fallbackDetail).toMatch(/limits\.maxImageBytes/);
    expect(layout.image.length).toBe(0);
    expect(grown).toBeLessThan(1 << 20);
  });

  it('an image exactly at the limit is built', async () => {
    const bytes = await watModule('(module (memory 1) (data (i32.const 4092) "abcd"))');
    const layout = prepareLayout(bytes, { maxImageBytes: 4096 });
    expect(layout.cow).toBe(true);
    expect(layout.image.length).toBe(4096);
    expect(prepareLayout(bytes, { maxImageBytes: 4095 }).fallbackReason).toBe('image-over-limit');
  });
});
