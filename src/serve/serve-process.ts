/**
 * A `cowpool serve` (or any server printing `listening on URL`) started as a
 * child process: what the bench and the tests need to drive one from outside.
 */
import { spawn, type ChildProcess } from 'node:child_process';

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

/** Starts `node ...args` and resolves once it printed its listening line (rejects if it ends first or takes over `timeoutMs`). */
export function startServerProcess(args: readonly string[], timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-65_536);
  });
  const ended = new Promise<string>((resolve) => child.once('exit', () => resolve(endedHow(child) ?? 'ended')));
  return new Promise<ServerProcess>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not print its listening line within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = LISTENING_LINE.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string, stderr: () => err, ended });
      }
    });
    void ended.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the server ${how} before listening: ${err}`));
    });
  });
}
