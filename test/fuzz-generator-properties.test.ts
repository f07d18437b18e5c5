/**
 * The fuzzer's own pure parts, with V8 as the oracle: the PRNG is a function
 * of its seed and stays in range; the encoder's LEB128 and float encodings
 * round-trip through a real instantiation; every generated module validates
 * and lays out its data as V8 does; a case is the same every time its seed
 * is replayed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitModule } from '../src/fuzz/emit-module.js';
import { generateCase } from '../src/fuzz/isolation-case.js';
import { FUZZ_PAGE, randomModuleShape, type ModuleShape, type NumType } from '../src/fuzz/module-shape.js';
import { MAX_SEED, Prng } from '../src/fuzz/prng.js';
import { generateRawCase } from '../src/fuzz/raw-slot-differential.js';
import { randomTenantActions } from '../src/fuzz/tenant-actions.js';

const seed = fc.integer({ min: 0, max: MAX_SEED });

function shapeWithGlobal(type: NumType, init: number | bigint, minPages = 0): ModuleShape {
  return { memory: { minPages, maxPages: null }, data: [], globals: [{ type, mutable: false, init }], tables: [], elems: [], funcCount: 1, start: null };
}

function globalValue(shape: ModuleShape): unknown {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(emitModule(shape)));
  return (instance.exports.g0 as WebAssembly.Global).value;
}

describe('Prng', () => {
  it('is a function of its seed', () => {
    fc.assert(fc.property(seed, (s) => {
      const a = new Prng(s);
      const b = new Prng(s);
      for (let i = 0; i < 20; i++) expect(a.u32()).toBe(b.u32());
    }));
  });

  it('int(min, max) stays within both bounds', () => {
    fc.assert(fc.property(seed, fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 1e6 }), (s, min, span) => {
      const prng = new Prng(s);
      for (let i = 0; i < 10; i++) {
        const v = prng.int(min, min + span);
        expect(Number.isInteger(v) && v >= min && v <= min + span).toBe(true);
      }
    }));
  });

  it('refuses a seed outside 0..2^32-1', () => {
    expect(() => new Prng(-1)).toThrow(/seed/);
    expect(() => new Prng(MAX_SEED + 1)).toThrow(/seed/);
  });
});

describe('wasm encoder, read back by V8', () => {
  it('i32 constants (signed LEB128)', () => {
    fc.assert(fc.property(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), (v) => {
      expect(globalValue(shapeWithGlobal('i32', v))).toBe(v);
    }));
  });

  it('i64 constants (signed LEB128)', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
      expect(globalValue(shapeWithGlobal('i64', v))).toBe(v);
    }));
  });

  it('f32 and f64 constants', () => {
    fc.assert(fc.property(fc.double({ noNaN: true }), (v) => {
      expect(Object.is(globalValue(shapeWithGlobal('f64', v)), v)).toBe(true);
      expect(Object.is(globalValue(shapeWithGlobal('f32', v)), Math.fround(v))).toBe(true);
    }));
  });

  it('memory limits (unsigned LEB128)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), (pages) => {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(emitModule(shapeWithGlobal('i32', 0, pages))));
      expect((instance.exports.mem as WebAssembly.Memory).buffer.byteLength).toBe(pages * FUZZ_PAGE);
    }), { numRuns: 40 });
  });
});

describe('generated modules and cases', () => {
  it('every module validates, and its memory holds the active segments in order, later ones winning', () => {
    fc.assert(fc.property(seed, (s) => {
      const shape = randomModuleShape(new Prng(s));
      const bytes = emitModule(shape);
      expect(WebAssembly.validate(bytes)).toBe(true);
      let instance: WebAssembly.Instance;
      try {
        instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
      } catch {
        return; // A segment, element or start store out of bounds: traps by design.
      }
      if (shape.memory === null) return;
      const expected = new Uint8Array(shape.memory.minPages * FUZZ_PAGE);
      for (const d of shape.data) if (d.mode === 'active') expected.set(d.bytes, d.offset);
      if (shape.start !== null) expected[shape.start.address] = shape.start.value;
      const actual = new Uint8Array((instance.exports.mem as WebAssembly.Memory).buffer);
      expect(Buffer.compare(actual, expected)).toBe(0);
    }), { numRuns: 150 });
  });

  it('a case is the same every time its seed is replayed', () => {
    fc.assert(fc.property(seed, fc.boolean(), (s, faults) => {
      const a = generateCase(s, { faults });
      const b = generateCase(s, { faults });
      expect(a.modules.map((m) => Buffer.from(m).toString('hex'))).toEqual(b.modules.map((m) => Buffer.from(m).toString('hex')));
      expect(a.tenants).toEqual(b.tenants);
      expect(a.limits).toEqual(b.limits);
      expect(generateRawCase(s, { faults })).toEqual(generateRawCase(s, { faults }));
    }), { numRuns: 15 });
  });

  it('no tenant script holds more leases than the case has slots', () => {
    fc.assert(fc.property(seed, (s) => {
      const c = generateCase(s);
      for (let u = 0; u < c.tenants.length; u++) {
        let held = 1;
        for (let i = 0; i < u; i++) if (i + (c.tenants[i]?.hold ?? 0) >= u) held++;
        expect(held).toBeLessThanOrEqual(c.limits.maxSlots);
      }
    }), { numRuns: 200 });
  });

  it('actions only name exports the module has', () => {
    fc.assert(fc.property(seed, (s) => {
      const prng = new Prng(s);
      const shape = randomModuleShape(prng);
      const exports = new Set(WebAssembly.Module.exports(new WebAssembly.Module(emitModule(shape))).map((e) => e.name));
      for (const a of randomTenantActions(prng, shape, 30)) {
        const needs = a.kind === 'memoryInit' ? `init${a.segment}` : a.kind === 'dataDrop' ? `drop${a.segment}`
          : a.kind === 'globalSet' ? (a.via === 'wasm' ? `gset${a.global}` : `g${a.global}`)
          : a.kind === 'tableSet' ? (a.func === null ? `tnull${a.table}` : `tset${a.table}_${a.func}`)
          : a.kind === 'tableGrow' ? `tgrow${a.table}` : a.kind === 'tableCall' ? `tcall${a.table}`
          : a.kind === 'hostWrite' || a.kind === 'size' ? 'mem' : a.kind === 'trapWrite' ? 'trapwrite' : 'store8';
        expect(exports.has(needs), `${a.kind} needs ${needs}`).toBe(true);
      }
    }), { numRuns: 100 });
  });
});
