/**
 * prepareLayout's arguments: bad options are INVALID_ARGUMENT naming the
 * option, the page size sets the image granularity, and a view into a larger
 * buffer is read from its own start.
 */
import { describe, expect, it } from 'vitest';
import { CowpoolError } from '../src/errors.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { wat } from './support/wasm-fixtures.js';

const SOURCE = '(module (memory 2) (data (i32.const 5000) "abc"))';

function invalidArgument(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(CowpoolError);
    expect((e as CowpoolError).code).toBe('INVALID_ARGUMENT');
    return (e as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('prepareLayout options', () => {
  it('rejects a page size that is not a power of two dividing 64 KiB', async () => {
    const bytes = await wat(SOURCE);
    for (const pageSize of [0, 3, 1000, 131072, 1.5, -4096, Number.NaN]) {
      expect(invalidArgument(() => prepareLayout(bytes, { pageSize }))).toMatch(/options\.pageSize/);
    }
  });

  it('rounds the image to the page size: default 4096, any power of two up to 64 KiB', async () => {
    const bytes = await wat(SOURCE);
    expect(prepareLayout(bytes).image.length).toBe(8192);
    expect(prepareLayout(bytes).pageSize).toBe(4096);
    expect(prepareLayout(bytes, { pageSize: 1 }).image.length).toBe(5003);
    expect(prepareLayout(bytes, { pageSize: 16384 }).image.length).toBe(16384);
    expect(prepareLayout(bytes, { pageSize: 65536 }).image.length).toBe(65536);
  });

  it('rejects bytes that are not a Uint8Array', () => {
    expect(invalidArgument(() => prepareLayout(new ArrayBuffer(8) as unknown as Uint8Array))).toMatch(/Uint8Array/);
    expect(invalidArgument(() => prepareLayout('(module)' as unknown as Uint8Array))).toMatch(/Uint8Array/);
  });

  it('reads a view at a non-zero offset of a larger buffer (a pooled Buffer)', async () => {
    const bytes = await wat(SOURCE);
    const backing = new Uint8Array(bytes.length + 37).fill(0xee);
    backing.set(bytes, 17);
    const view = backing.subarray(17, 17 + bytes.length);
    const fromView = prepareLayout(view);
    const direct = prepareLayout(bytes);
    expect(fromView.cow).toBe(true);
    expect(Buffer.from(fromView.bytes).equals(Buffer.from(direct.bytes))).toBe(true);
    expect(Buffer.from(fromView.image).equals(Buffer.from(direct.image))).toBe(true);
  });
});
