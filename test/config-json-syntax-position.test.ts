import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, lineAndColumn } from '../src/config/json-syntax-error.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** JSON texts with one character inserted, deleted or replaced: mostly invalid, sometimes not. */
const mutatedJson = fc
  .tuple(fc.json(), fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...',:{}[]"\\/ \n0-.etx\''))
  .map(([text, at, how, c]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    if (how === 'insert') return text.slice(0, i) + c + text.slice(i);
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + c + text.slice(i + 1);
  });

describe('findJsonSyntaxError', () => {
  it('finds an error exactly when JSON.parse rejects the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutatedJson, fc.string()), (text) => {
        expect(findJsonSyntaxError(text) === undefined).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('reports the first bad character, not a later one', () => {
    // Everything before the reported offset must still be the start of valid JSON (or be
    // valid JSON): cut there, the text is either accepted or fails only at its very end.
    fc.assert(
      fc.property(mutatedJson, (text) => {
        const error = findJsonSyntaxError(text);
        if (error === undefined) return;
        const prefix = text.slice(0, error.offset);
        const again = findJsonSyntaxError(prefix);
        if (again !== undefined) expect(again.offset).toBe(prefix.length);
        // And the reported character itself is wrong: cut just after it, the error stays there.
        if (error.offset < text.length) {
          expect(findJsonSyntaxError(text.slice(0, error.offset + 1))?.offset).toBe(error.offset);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('converts offsets to 1-based line and column', () => {
    const text = 'ab\ncd\n\nef';
    expect(lineAndColumn(text, 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn(text, 2)).toEqual({ line: 1, column: 3 });
    expect(lineAndColumn(text, 3)).toEqual({ line: 2, column: 1 });
    expect(lineAndColumn(text, 7)).toEqual({ line: 4, column: 1 });
    expect(lineAndColumn(text, 9)).toEqual({ line: 4, column: 3 });
  });
});
