/**
 * stdout and stderr are kept up to their caps; what passes a cap is dropped,
 * counted and reported, and the guest still sees every write succeed (so it
 * finishes instead of retrying).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_CAP, runWasi } from '../src/index.js';
import { corpusModule, text } from './helpers/wasi-corpus.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

/** What big-output.c writes: 1000-byte lines of a repeating alphabet, each restarting at 'a'. */
function bigOutput(n: number): string {
  const line = Array.from({ length: 1000 }, (_, i) => ALPHABET[i % 26]).join('');
  return line.repeat(Math.ceil(n / 1000)).slice(0, n);
}

describe('WASI host: output caps', () => {
  it('stdout over its cap is cut at the cap, the rest counted, the program still exits 0', () => {
    const result = runWasi(corpusModule('big-output'), { args: ['big-output', '50000'], stdoutCap: 12_345 });
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBe(12_345);
    expect(text(result.stdout)).toBe(bigOutput(50_000).slice(0, 12_345));
    expect(result.droppedBytes).toEqual({ stdout: 50_000 - 12_345, stderr: 0 });
    expect(text(result.stderr)).toBe('wrote 50000\n');
  });

  it('output exactly at the cap is whole and not truncated', () => {
    const result = runWasi(corpusModule('big-output'), { args: ['big-output', '3000'], stdoutCap: 3000 });
    expect(result.truncated).toBe(false);
    expect(text(result.stdout)).toBe(bigOutput(3000));
  });

  it('the stderr cap is separate from stdout\'s', () => {
    const result = runWasi(corpusModule('big-output'), { args: ['big-output', '100'], stderrCap: 5 });
    expect(text(result.stdout)).toBe(bigOutput(100));
    expect(text(result.stderr)).toBe('wrote');
    expect(result.truncated).toBe(true);
    expect(result.droppedBytes.stderr).toBe('wrote 100\n'.length - 5);
  });

  it('a cap of 0 keeps nothing; the default cap is DEFAULT_OUTPUT_CAP', () => {
    const none = runWasi(corpusModule('big-output'), { args: ['big-output', '10'], stdoutCap: 0 });
    expect(none.stdout.length).toBe(0);
    expect(none.droppedBytes.stdout).toBe(10);
    const big = runWasi(corpusModule('big-output'), { args: ['big-output', String(DEFAULT_OUTPUT_CAP + 7)] });
    expect(big.stdout.length).toBe(DEFAULT_OUTPUT_CAP);
    expect(big.droppedBytes.stdout).toBe(7);
  });

  it('a cap that is not a whole number of bytes is refused, naming the field', () => {
    expect(() => runWasi(corpusModule('args'), { stdoutCap: -1 })).toThrow(/options\.stdoutCap/);
    expect(() => runWasi(corpusModule('args'), { stderrCap: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
