/**
 * CappedOutput, property-tested: whatever the sizes of the writes, it keeps
 * exactly the first `cap` bytes of everything written, counts the rest as
 * dropped, and reports truncation iff anything was dropped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../src/host/capped-output.js';

describe('CappedOutput', () => {
  it('keeps the first cap bytes of the concatenated writes and counts the rest', () => {
    fc.assert(
      fc.property(fc.nat({ max: 300 }), fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 12 }), (cap, writes) => {
        const output = new CappedOutput(cap);
        for (const w of writes) output.write(w);
        const all = Uint8Array.from(writes.flatMap((w) => [...w]));
        expect([...output.bytes()]).toEqual([...all.subarray(0, cap)]);
        expect(output.keptBytes).toBe(Math.min(cap, all.length));
        expect(output.droppedBytes).toBe(Math.max(0, all.length - cap));
        expect(output.truncated).toBe(all.length > cap);
      }),
      { numRuns: 500 },
    );
  });

  it('copies what it keeps: a later change to the written buffer does not reach the output', () => {
    const output = new CappedOutput(10);
    const buffer = new Uint8Array([1, 2, 3]);
    output.write(buffer);
    buffer[0] = 9;
    expect([...output.bytes()]).toEqual([1, 2, 3]);
  });
});
