/**
 * The WASI conformance corpus (test/fixtures/wasi/*.wasm, built from
 * test/fixtures/wasi/src/*.c by scripts/build-wasi-fixtures.sh), a sandbox
 * directory to preopen, and node:wasi run in a child process for comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemorySymlink, type MemoryDirectory } from '../../src/index.js';

export const CORPUS_DIR = fileURLToPath(new URL('../fixtures/wasi/', import.meta.url));
const CHILD = fileURLToPath(new URL('./node-wasi-child.mjs', import.meta.url));

export function corpusPath(name: string): string {
  return join(CORPUS_DIR, `${name}.wasm`);
}

export function corpusModule(name: string): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(corpusPath(name)));
}

/**
 * A directory holding `sandbox/` (what the guest gets) and `outside.txt`
 * next to it (what no guest may read): files, subdirectories, and symlinks
 * out (absolute and relative) and in.
 */
export function makeSandbox(): { root: string; sandbox: string } {
  const root = mkdtempSync(join(tmpdir(), 'cowpool-wasi-sandbox-'));
  const sandbox = join(root, 'sandbox');
  mkdirSync(join(sandbox, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(sandbox, 'hello.txt'), 'hello world\n');
  writeFileSync(join(sandbox, 'sub', 'b.txt'), 'abc');
  writeFileSync(join(sandbox, 'sub', 'deeper', 'c.txt'), 'deep\n');
  writeFileSync(join(root, 'outside.txt'), 'secret outside the sandbox\n');
  symlinkSync(join(root, 'outside.txt'), join(sandbox, 'link-out'));
  symlinkSync('../outside.txt', join(sandbox, 'link-up'));
  symlinkSync('../hello.txt', join(sandbox, 'sub', 'link-in'));
  return { root, sandbox };
}

/** The same sandbox as an in-memory tree (the absolute link points at a path the tree cannot reach). */
export function memorySandbox(root: string): MemoryDirectory {
  return {
    'hello.txt': 'hello world\n',
    sub: { 'b.txt': 'abc', deeper: { 'c.txt': 'deep\n' }, 'link-in': new MemorySymlink('../hello.txt') },
    'link-out': new MemorySymlink(join(root, 'outside.txt')),
    'link-up': new MemorySymlink('../outside.txt'),
  };
}

export interface NodeWasiCase {
  wasm: string;
  args?: string[];
  env?: Record<string, string>;
  stdin?: Uint8Array;
  preopens?: Record<string, string>;
  /** For a reactor: exports to call after initialize(), in order. */
  reactorCalls?: string[];
}

export interface NodeWasiResult {
  exitCode: number | null;
  error: { name: string; message: string } | null;
  returns: unknown[];
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** Runs `cases` under node:wasi in one child process (keep it to a few dozen: see DESIGN on Node 20). */
export function runUnderNodeWasi(cases: NodeWasiCase[]): NodeWasiResult[] {
  const input = JSON.stringify(cases.map((c) => ({ ...c, stdin: Buffer.from(c.stdin ?? new Uint8Array(0)).toString('base64') })));
  const r = spawnSync(process.execPath, ['--no-warnings', CHILD], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`node:wasi child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  const raw = JSON.parse(r.stdout) as (Omit<NodeWasiResult, 'stdout' | 'stderr'> & { stdout: string; stderr: string })[];
  return raw.map((x) => ({ ...x, stdout: new Uint8Array(Buffer.from(x.stdout, 'base64')), stderr: new Uint8Array(Buffer.from(x.stderr, 'base64')) }));
}

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
