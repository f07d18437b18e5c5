/**
 * Arguments and environment strings are encoded for the guest once per run,
 * with an ASCII fast path: whatever the string, the bytes must be exactly
 * UTF-8 with a NUL after them (what TextEncoder gives), lone surrogates
 * included (replaced as TextEncoder replaces them).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withNul } from '../src/host/wasi-options.js';

const reference = (text: string): Uint8Array => new TextEncoder().encode(`${text}\0`);

describe('WASI string encoding', () => {
  it('equals TextEncoder plus a NUL for any string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (text) => {
        expect(withNul(text)).toEqual(reference(text));
      }),
      { numRuns: 3000 },
    );
  });

  it.each(['', 'REQUEST_METHOD=GET', 'HTTP_USER_AGENT=curl/8.0 (x86_64)', '\u007f', 'é', 'x\u00e9y', '\ud800', 'emoji \u{1f600}'])('%j', (text) => {
    expect(withNul(text)).toEqual(reference(text));
  });
});
