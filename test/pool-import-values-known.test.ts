/**
 * importValues against the slot's last linking: a tenant passing the values
 * the last one passed gets the last array itself (nothing made per
 * instantiate); any other tenant gets a new array of its own values. Either
 * way every import is read exactly once (a getter runs once per instantiate).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { importValues } from '../src/pool/instance-calls.js';
import { watModule } from './helpers/wat-module.js';

/** Five imports over two namespaces, and memory 0 imported (the pool supplies it under cow, so it is not a value). */
const WAT = `(module
  (import "env" "memory" (memory 1))
  (import "env" "f0" (func))
  (import "env" "g" (global i32))
  (import "env" "f1" (func (param i32)))
  (import "other" "h" (func (result i32)))
  (import "env" "f2" (func)))`;
const NAMES = [['env', 'f0'], ['env', 'g'], ['env', 'f1'], ['other', 'h'], ['env', 'f2']] as const;
const CANDIDATES = [() => 0, () => 1, new WebAssembly.Global({ value: 'i32' }, 1), 7] as const;

/** Imports holding `CANDIDATES[picks[i]]` for NAMES[i], each behind a getter counting its reads in `reads`. */
function importsOf(picks: readonly number[], reads: number[]): WebAssembly.Imports {
  const imports: Record<string, Record<string, unknown>> = { env: {}, other: {} };
  NAMES.forEach(([module, name], i) => {
    Object.defineProperty(imports[module], name, {
      enumerable: true,
      get: () => {
        reads[i] = (reads[i] ?? 0) + 1;
        return CANDIDATES[picks[i] ?? 0];
      },
    });
  });
  return imports as WebAssembly.Imports;
}

describe('importValues with the last linking\'s values', () => {
  it('returns the known array itself exactly when every value is the same, and reads each import once', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    expect(prepared.memoryImport).toEqual({ module: 'env', name: 'memory' });
    const picksArb = fc.array(fc.integer({ min: 0, max: CANDIDATES.length - 1 }), { minLength: NAMES.length, maxLength: NAMES.length });
    fc.assert(
      // Half the runs link the values of the run before, as a host with fixed imports does.
      fc.property(picksArb, picksArb, fc.boolean(), (before, other, repeat) => {
        const after = repeat ? [...before] : other;
        const known = importValues(prepared, importsOf(before, []));
        expect(known).toEqual(before.map((p) => CANDIDATES[p]));
        const reads: number[] = [];
        const got = importValues(prepared, importsOf(after, reads), known);
        expect(reads).toEqual(NAMES.map(() => 1));
        expect(got).toEqual(after.map((p) => CANDIDATES[p]));
        const same = before.every((p, i) => p === after[i]);
        expect(got === known).toBe(same);
        // The known array is never written.
        expect(known).toEqual(before.map((p) => CANDIDATES[p]));
      }),
      { numRuns: 300 },
    );
    pool.close();
  });
});
