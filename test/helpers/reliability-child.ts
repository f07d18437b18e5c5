/**
 * Child processes and worker threads that run the TypeScript sources (through
 * reliability-ts-loader.mjs), for tests of what could take a process down —
 * injected system call failures, stale buffers, work across threads. The test
 * asserts on the exit status and signal; a crash ends the child, never the
 * runner.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `node --import` argument that makes `.ts` sources importable. */
export const TS_REGISTER = fileURLToPath(new URL('./reliability-ts-register.mjs', import.meta.url));

/** A `file:` URL of a file under src/, for `import` in child and worker scripts. */
export function srcUrl(path: string): string {
  return pathToFileURL(fileURLToPath(new URL(`../../src/${path}`, import.meta.url))).href;
}

export interface ChildOutcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` (an ES module body; top-level await allowed) in a new `node`
 * process. Resolves when it exits, or kills it after `timeoutMs`. `asFile`
 * runs it from a temporary .mjs file instead of `-e`: worker threads inherit
 * the process's node options, and `--input-type` makes a worker fail to start.
 */
export function runTsChild(
  script: string,
  options: { env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number; asFile?: boolean } = {},
): Promise<ChildOutcome> {
  let dir: string | null = null;
  let source = ['--input-type=module', '-e', script];
  if (options.asFile === true) {
    dir = mkdtempSync(join(tmpdir(), 'cowpool-child-'));
    const file = join(dir, 'child.mjs');
    writeFileSync(file, script);
    source = [file];
  }
  const cleanup = () => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  };
  return new Promise<ChildOutcome>((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', TS_REGISTER, ...source], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  }).finally(cleanup);
}

/** A worker thread running `code` (an ES module body) with `.ts` imports enabled. */
export function startTsWorker(code: string, workerData?: unknown): Worker {
  // A data: URL makes the worker an ES module (top-level await, import).
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    execArgv: ['--import', TS_REGISTER],
    workerData,
  });
}

/** The last line of `stdout` parsed as JSON (children report results that way). */
export function lastJsonLine<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}
