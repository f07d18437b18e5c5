/**
 * A `cowpool serve` (or any server printing `listening on URL`) started as a
 * child process: what the bench and the tests need to drive one from outside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The URL from the `listening on URL` line. */
  readonly url: string;
  /** Everything the server wrote to stderr so far (logs), last 64 KiB. */
  stderr(): string;
  /** Resolves with how the process ended ("exited with 0", "killed by SIGSEGV"). */
  readonly ended: Promise<string>;
}

/** The line a server prints on stdout once it accepts requests. */
export const LISTENING_LINE = /listening on (http:\/\/\S+)\n/;

/** How a child ended, or null while it runs. */
export function endedHow(child: ChildProcess): string | null {
  if (child.signalCode !== null) return `killed by ${child.signalCode}`;
  if (child.exitCode !== null) return `exited with ${child.exitCode}`;
  return null;
}

const STDERR_KEPT = 65_536;

/**
 * Starts `node ...args` and resolves once it printed its listening line
 * (rejects if it ends first or takes over `timeoutMs`). With `stderrPath`
 * the server's stderr (a log line per request) goes to that file instead of
 * through this process, which then spends nothing on it: what a load
 * generator running here needs.
 */
export function startServerProcess(args: readonly string[], timeoutMs = 60_000, stderrPath?: string): Promise<ServerProcess> {
  const fd = stderrPath === undefined ? null : openSync(stderrPath, 'w+');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', fd ?? 'pipe'] });
  const chunks: string[] = [];
  let kept = 0;
  child.stderr?.on('data', (c: Buffer) => {
    chunks.push(c.toString());
    kept += c.length;
    // Trim now and then, not on every chunk: a busy server writes many.
    if (kept > 4 * STDERR_KEPT) {
      const tail = chunks.join('').slice(-STDERR_KEPT);
      chunks.length = 0;
      chunks.push(tail);
      kept = tail.length;
    }
  });
  // The child holds its own copy of the descriptor.
  if (fd !== null) closeSync(fd);
  const err = (): string => {
    if (stderrPath === undefined) return chunks.join('').slice(-STDERR_KEPT);
    const file = openSync(stderrPath, 'r');
    try {
      const size = fstatSync(file).size;
      const tail = Buffer.alloc(Math.min(size, STDERR_KEPT));
      readSync(file, tail, 0, tail.length, size - tail.length);
      return tail.toString();
    } finally {
      closeSync(file);
    }
  };
  const ended = new Promise<string>((resolve) => child.once('exit', () => resolve(endedHow(child) ?? 'ended')));
  return new Promise<ServerProcess>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not print its listening line within ${timeoutMs} ms: ${err()}`)), timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = LISTENING_LINE.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string, stderr: err, ended });
      }
    });
    void ended.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the server ${how} before listening: ${err()}`));
    });
  });
}
