/**
 * The bench's generated modules are what their names say: valid modules
 * exporting `memory` and `noop`, with the image, sparsity and table size
 * each one exists to exercise.
 */
import { describe, expect, it } from 'vitest';
import { SYNTHETIC_MODULES, syntheticModule } from '../src/bench/synthetic-modules.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';

const MiB = 1 << 20;

function nonZeroPages(image: Uint8Array): number {
  let pages = 0;
  for (let page = 0; page < image.length; page += 4096) {
    if (image.subarray(page, page + 4096).some((b) => b !== 0)) pages++;
  }
  return pages;
}

describe('bench synthetic modules', () => {
  it.each(SYNTHETIC_MODULES)('%s is valid, pooled copy-on-write, and exports memory and noop', (name) => {
    const bytes = syntheticModule(name);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const layout = prepareLayout(bytes);
    expect(layout.cow).toBe(true);
    expect(layout.exports.map((e) => `${e.kind}:${e.name}`)).toEqual(['memory:memory', 'function:noop']);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    expect((instance.exports.noop as () => unknown)()).toBeUndefined();
  });

  it('data-1mib fills its 1 MiB memory with non-zero data', () => {
    const layout = prepareLayout(syntheticModule('data-1mib'));
    expect(layout.memory?.initialPages).toBe(16);
    expect(layout.image.length).toBe(MiB);
    expect(nonZeroPages(layout.image)).toBe(256);
  });

  it('sparse-16mib spans 16 MiB with one non-zero page per MiB', () => {
    const layout = prepareLayout(syntheticModule('sparse-16mib'));
    expect(layout.memory?.initialPages).toBe(256);
    expect(layout.image.length).toBe(16 * MiB);
    expect(nonZeroPages(layout.image)).toBe(16);
  });

  it('table-20k has a 20,000-entry funcref table filled by one segment and no data', () => {
    const layout = prepareLayout(syntheticModule('table-20k'));
    expect(layout.tables).toEqual([expect.objectContaining({ initial: 20_000, elemType: 'funcref', imported: false })]);
    expect(layout.elementSegments).toEqual([expect.objectContaining({ mode: 'active', offset: 0, length: 20_000 })]);
    expect(layout.image.length).toBe(0);
  });
});
