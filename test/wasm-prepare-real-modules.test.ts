/**
 * Real third-party modules (emscripten builds of SQLite and QuickJS) prepare
 * copy-on-write, and a prepared instance starts with exactly the memory the
 * original gets from V8.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { prepareLayout, type PreparedLayout } from '../src/wasm/prepare-layout.js';
import { exportedMemory, instantiate, instantiatePrepared, WA, type Imports, type WasmMemory } from './support/wasm-fixtures.js';

const require = createRequire(import.meta.url);
const load = (specifier: string): Uint8Array => new Uint8Array(readFileSync(require.resolve(specifier)));

/** Every function import answers 0: enough for instantiation and the start function of these builds. */
function zeroImports(layout: PreparedLayout, memory: WasmMemory | null): Imports {
  const imports: Imports = {};
  for (const i of layout.imports) {
    const namespace = (imports[i.module] ??= {});
    if (i.kind === 'function') namespace[i.name] = () => 0;
    else if (i.kind === 'memory') namespace[i.name] = memory;
    else throw new Error(`unexpected ${i.kind} import ${i.module}.${i.name}`);
  }
  return imports;
}

function memoryDescriptor(layout: PreparedLayout): { initial: number; maximum?: number } {
  const d: { initial: number; maximum?: number } = { initial: layout.memory!.initialPages };
  if (layout.memory!.maximumPages !== null) d.maximum = layout.memory!.maximumPages;
  return d;
}

function expectSameInitialMemory(bytes: Uint8Array, layout: PreparedLayout): void {
  const ownMemory = layout.memoryImported ? new WA.Memory(memoryDescriptor(layout)) : null;
  const original = instantiate(bytes, zeroImports(layout, ownMemory));
  const originalMemory = ownMemory ?? exportedMemory(original, layout.memoryExportNames[0]);
  const prepared = instantiatePrepared(layout, zeroImports(layout, null));
  const a = new Uint8Array(originalMemory.buffer);
  const b = new Uint8Array(prepared.memory.buffer);
  expect(b.length).toBe(a.length);
  expect(Buffer.compare(a, b)).toBe(0);
}

describe('third-party modules', () => {
  it('sql.js (sql-wasm.wasm): defined memory, copy-on-write', () => {
    const bytes = load('sql.js/dist/sql-wasm.wasm');
    const layout = prepareLayout(bytes);
    expect(layout).toMatchObject({
      cow: true,
      fallbackReason: null,
      memoryImported: false,
      memoryImport: { module: 'cowpool', name: 'memory' },
      memory: { initialPages: 338, maximumPages: 32768, shared: false, memory64: false },
      activeSegments: 397,
      passiveSegments: 0,
    });
    expect(layout.image.length).toBe(81920);
    expect(layout.imageDataBytes).toBe(71319);
    expect(layout.bytes.length).toBeLessThan(bytes.length - layout.imageDataBytes + 397);
    expectSameInitialMemory(bytes, layout);
  });

  it('QuickJS (emscripten-module.wasm): imported memory and a start function, copy-on-write', () => {
    const bytes = load('@jitl/quickjs-wasmfile-release-sync/wasm');
    const layout = prepareLayout(bytes);
    expect(layout).toMatchObject({
      cow: true,
      fallbackReason: null,
      memoryImported: true,
      memoryImport: { module: 'a', name: 'a' },
      memory: { initialPages: 256, maximumPages: 32768, shared: false, memory64: false },
      activeSegments: 93,
      passiveSegments: 0,
      start: 1338,
    });
    expect(layout.image.length).toBe(90112);
    expect(layout.imageDataBytes).toBe(84533);
    expectSameInitialMemory(bytes, layout);
  });

  it('both prepare with exportInternals and still validate', () => {
    for (const specifier of ['sql.js/dist/sql-wasm.wasm', '@jitl/quickjs-wasmfile-release-sync/wasm']) {
      const layout = prepareLayout(load(specifier), { exportInternals: true });
      expect(layout.cow, specifier).toBe(true);
      expect(layout.internals!.globals.map((g) => g.exportName), specifier).toEqual(['__cowpool_global_0']);
      expect(layout.internals!.tables.map((t) => t.exportName), specifier).toEqual(['__cowpool_table_0']);
      expect(WA.validate(layout.bytes), specifier).toBe(true);
    }
  });
});
