/**
 * The rewrite touches only the sections it must (import, memory, export,
 * data): every other section, custom ones included, is copied byte for byte
 * and keeps its place; a created import section lands where the format
 * requires it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../src/wasm/byte-writer.js';
import { prepareLayout } from '../src/wasm/prepare-layout.js';
import { parseModule } from '../src/wasm/parse-module.js';
import { SECTION_ID, splitSections, type SectionSpan } from '../src/wasm/module-sections.js';
import { call, instantiatePrepared, WA, wat } from './support/wasm-fixtures.js';

const REWRITTEN = new Set<number>([SECTION_ID.import, SECTION_ID.memory, SECTION_ID.export, SECTION_ID.data]);

function sectionBytes(bytes: Uint8Array, s: SectionSpan): string {
  return Buffer.from(bytes.subarray(s.start, s.end)).toString('hex');
}

/** Sections of `bytes` that the rewrite must leave alone, as hex, in order. */
function untouched(bytes: Uint8Array): string[] {
  return splitSections(bytes)
    .filter((s) => !REWRITTEN.has(s.id))
    .map((s) => sectionBytes(bytes, s));
}

/** `bytes` with a custom section named `name` inserted before section number `position`. */
function withCustomSection(bytes: Uint8Array, position: number, name: string): Uint8Array {
  const spans = splitSections(bytes);
  const at = spans[position]?.start ?? bytes.length;
  const content = new ByteWriter().name(name).bytes(Uint8Array.from([1, 2, 3])).finish();
  const custom = new ByteWriter().section(SECTION_ID.custom, content).finish();
  return Uint8Array.from([...bytes.subarray(0, at), ...custom, ...bytes.subarray(at)]);
}

describe('section copying', () => {
  it('copies every section it does not rewrite byte for byte (sql.js, QuickJS)', () => {
    const require = createRequire(import.meta.url);
    for (const specifier of ['sql.js/dist/sql-wasm.wasm', '@jitl/quickjs-wasmfile-release-sync/wasm']) {
      const bytes = new Uint8Array(readFileSync(require.resolve(specifier)));
      const layout = prepareLayout(bytes, { exportInternals: true });
      expect(untouched(layout.bytes), specifier).toEqual(untouched(bytes));
    }
  });

  it('keeps custom sections in place and inserts a new import section right before the function section', async () => {
    let bytes = await wat(`(module
      (memory 1 2)
      (func (export "f") (result i32) (i32.load8_u (i32.const 3)))
      (data (i32.const 3) "\\2a"))`);
    // [type, function, memory, export, code, data] -> custom sections at the start, after type, after memory, at the end.
    bytes = withCustomSection(bytes, 6, 'tail');
    bytes = withCustomSection(bytes, 3, 'after-memory');
    bytes = withCustomSection(bytes, 1, 'after-type');
    bytes = withCustomSection(bytes, 0, 'head');
    expect(WA.validate(bytes)).toBe(true);

    const layout = prepareLayout(bytes);
    expect(layout.cow).toBe(true);
    const out = parseModule(layout.bytes);
    const order = out.sections.map((s) => (s.id === SECTION_ID.custom ? out.customSections.find((c) => c.start === s.start)!.name : s.id));
    expect(order).toEqual([
      'head',
      SECTION_ID.type,
      'after-type',
      SECTION_ID.import,
      SECTION_ID.function,
      'after-memory',
      SECTION_ID.export,
      SECTION_ID.code,
      SECTION_ID.data,
      'tail',
    ]);
    expect(untouched(layout.bytes)).toEqual(untouched(bytes));
    expect(out.imports).toEqual([expect.objectContaining({ module: 'cowpool', name: 'memory', kind: 'memory', index: 0 })]);
    expect(out.memories[0]!.limits).toMatchObject({ initial: 1, maximum: 2, shared: false, is64: false });
  });

  it('appends the memory import after existing imports, so no function, table or global index moves', async () => {
    const bytes = await wat(`(module
      (import "env" "f" (func $f (result i32)))
      (import "env" "t" (table 1 funcref))
      (import "env" "g" (global i32))
      (memory 1)
      (func (export "g") (result i32) (call $f)))`);
    const layout = prepareLayout(bytes);
    const before = parseModule(bytes).imports.map(({ module, name, kind, index }) => ({ module, name, kind, index }));
    const after = parseModule(layout.bytes).imports.map(({ module, name, kind, index }) => ({ module, name, kind, index }));
    expect(after).toEqual([...before, { module: 'cowpool', name: 'memory', kind: 'memory', index: 0 }]);
  });

  it('removes the memory section from between table and tag sections and keeps the tag section', async () => {
    const bytes = await wat(
      `(module
        (tag $oops (param i32))
        (table 1 funcref)
        (memory (export "mem") 1)
        (global (mut i32) (i32.const 0))
        (data (i32.const 0) "\\05")
        (func (export "raise") (result i32)
          (try (result i32)
            (do (throw $oops (i32.load8_u (i32.const 0))))
            (catch $oops))))`,
      { exceptions: true },
    );
    const layout = prepareLayout(bytes, { exportInternals: true });
    expect(layout.cow).toBe(true);
    expect(parseModule(layout.bytes).sections.map((s) => s.id)).toEqual([
      SECTION_ID.type,
      SECTION_ID.import,
      SECTION_ID.function,
      SECTION_ID.table,
      SECTION_ID.tag,
      SECTION_ID.global,
      SECTION_ID.export,
      SECTION_ID.code,
      SECTION_ID.data,
    ]);
    expect(untouched(layout.bytes)).toEqual(untouched(bytes));
    expect(call(instantiatePrepared(layout).instance, 'raise')).toBe(5);
  });

  it('picks a free name when the module already imports cowpool.memory as something else', async () => {
    const bytes = await wat('(module (import "cowpool" "memory" (func)) (memory 1))');
    const layout = prepareLayout(bytes);
    expect(layout.memoryImport).toEqual({ module: 'cowpool', name: 'memory_1' });
    expect(WA.validate(layout.bytes)).toBe(true);
  });

  it('leaves the memory import of a module that imports its memory as it is', async () => {
    const bytes = await wat('(module (import "js" "mem" (memory 2 3)) (data (i32.const 0) "x"))');
    const layout = prepareLayout(bytes);
    expect(layout.memoryImport).toEqual({ module: 'js', name: 'mem' });
    const spans = splitSections(layout.bytes);
    const importSpan = spans.find((s) => s.id === SECTION_ID.import)!;
    const originalImport = splitSections(bytes).find((s) => s.id === SECTION_ID.import)!;
    expect(sectionBytes(layout.bytes, importSpan)).toBe(sectionBytes(bytes, originalImport));
  });
});
