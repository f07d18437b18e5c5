/**
 * The conformance corpus run under cowpool's WASI host and under node:wasi
 * (in a child process): exit code, stdout and stderr must be identical, for
 * args, environment, stdin→stdout, exit codes, a preopened directory (files,
 * subdirectories, readdir, stat, seek), escape attempts, clocks and random
 * (printed as shapes), output and a trap. The preopen is given to our host
 * both as the real directory and as an equivalent in-memory tree.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runWasi, wasiHost, type WasiOptions } from '../src/index.js';
import { corpusModule, corpusPath, makeSandbox, memorySandbox, runUnderNodeWasi, text, type NodeWasiCase } from './helpers/wasi-corpus.js';

const { root, sandbox } = makeSandbox();
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  name: string;
  program: string;
  args?: string[];
  env?: Record<string, string>;
  stdin?: string;
  sandbox?: boolean;
}

const CASES: Case[] = [
  { name: 'no arguments', program: 'args' },
  { name: 'arguments with spaces and UTF-8', program: 'args', args: ['one', 'two words', 'ünïcødé ✓', ''] },
  { name: 'environment in order', program: 'environ', env: { GREETING: 'hi there', EMPTY: '', UNICODE: 'ç€' } },
  { name: 'empty environment', program: 'environ' },
  { name: 'stdin to stdout', program: 'echo', stdin: 'hello stdin\nsecond line\n' },
  { name: 'empty stdin', program: 'echo' },
  { name: 'large stdin', program: 'echo', stdin: 'abcdefghij'.repeat(20_000) },
  { name: 'exit code 0', program: 'exit-code', args: ['0'] },
  { name: 'exit code 3', program: 'exit-code', args: ['3'] },
  { name: 'exit code 255', program: 'exit-code', args: ['255'] },
  { name: 'preopened directory', program: 'preopen-dir', sandbox: true },
  { name: 'escape attempts', program: 'escape', sandbox: true },
  { name: 'clocks and random', program: 'clock-random' },
  { name: 'output of 100 kB', program: 'big-output', args: ['100000'] },
];

function nodeCase(c: Case): NodeWasiCase {
  return {
    wasm: corpusPath(c.program),
    args: [c.program, ...(c.args ?? [])],
    env: c.env ?? {},
    stdin: new TextEncoder().encode(c.stdin ?? ''),
    preopens: c.sandbox === true ? { '/sandbox': sandbox } : {},
  };
}

function ourOptions(c: Case, preopen: 'directory' | 'memory'): WasiOptions {
  return {
    args: [c.program, ...(c.args ?? [])],
    env: c.env ?? {},
    stdin: c.stdin ?? '',
    preopens: c.sandbox === true ? { '/sandbox': preopen === 'directory' ? sandbox : memorySandbox(root) } : {},
  };
}

const nodeResults = runUnderNodeWasi([...CASES.map(nodeCase), { wasm: corpusPath('trap') }, { wasm: corpusPath('reactor'), env: { WHO: 'reactor test' }, reactorCalls: ['greet', 'greet'] }]);

describe('WASI host against node:wasi', () => {
  CASES.forEach((c, i) => {
    const expected = nodeResults[i]!;
    for (const preopen of c.sandbox === true ? (['directory', 'memory'] as const) : (['directory'] as const)) {
      it(`${c.name}${c.sandbox === true ? ` (preopen as ${preopen})` : ''}: same exit code, stdout and stderr`, () => {
        expect(expected.error).toBeNull();
        const ours = runWasi(corpusModule(c.program), ourOptions(c, preopen));
        expect(ours.exitCode).toBe(expected.exitCode);
        expect(text(ours.stdout)).toBe(text(expected.stdout));
        expect(text(ours.stderr)).toBe(text(expected.stderr));
        expect(ours.truncated).toBe(false);
      });
    }
  });

  it('the corpus exercises what it claims (the comparison is not vacuous)', () => {
    const byName = new Map(CASES.map((c, i) => [c.name, text(nodeResults[i]!.stdout)]));
    expect(byName.get('preopened directory')).toContain('c.txt (file, 5 bytes) "deep|"');
    expect(byName.get('escape attempts')).toContain('path_open(3, ../outside.txt): errno 76');
    expect(byName.get('escape attempts')).toContain('open /sandbox/sub/link-in: OPENED');
    expect(byName.get('escape attempts')).not.toMatch(/link-(out|up): (OPENED|FOUND)/);
    expect(nodeResults[CASES.findIndex((c) => c.name === 'exit code 3')]!.exitCode).toBe(3);
  });

  it('a trap is thrown as WebAssembly.RuntimeError by both, after the same output', () => {
    const expected = nodeResults[CASES.length]!;
    expect(expected.error?.name).toBe('RuntimeError');
    let thrown: unknown;
    try {
      runWasi(corpusModule('trap'), { args: ['trap'] });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(text(expected.stdout)).toBe('before the trap\n');
  });

  it('a reactor: _initialize then two export calls print and return the same as node:wasi', () => {
    const expected = nodeResults[CASES.length + 1]!;
    expect(expected.error).toBeNull();
    const session = wasiHost({ env: { WHO: 'reactor test' } });
    const instance = new WebAssembly.Instance(corpusModule('reactor'), session.imports);
    session.initialize(instance.exports);
    const greet = instance.exports['greet'] as () => number;
    const returns = [greet(), greet()];
    const result = session.finish();
    expect(returns).toEqual(expected.returns);
    expect(text(result.stdout)).toBe(text(expected.stdout));
    expect(text(result.stdout)).toContain('hello reactor test #2');
    expect(() => greet()).toThrow(/run has finished|no run is current/);
  });
});
