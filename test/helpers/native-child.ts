/**
 * Runs a snippet of JavaScript in a child `node` process with the addon
 * preloaded as `addon` (CommonJS), so a crash (SIGBUS, SIGSEGV) ends the
 * child, not the test runner. Returns the exit status, signal and output.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The suite runs against the test build (vitest.config.ts sets COWPOOL_NATIVE_BUILD=test).
export const ADDON_PATH = fileURLToPath(new URL('../../build/Release/cowpool_test.node', import.meta.url));

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runNativeChild(body: string, env: Record<string, string> = {}, nodeArgs: string[] = []): ChildResult {
  const script = `const addon = require(${JSON.stringify(ADDON_PATH)});\n${body}\n`;
  const r = spawnSync(process.execPath, [...nodeArgs, '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Counts this process's open file descriptors and the memory mappings of
 * cowpool's memfds (images and raw slots). Other mappings (V8's heap) come and
 * go with garbage collection and say nothing about leaks.
 */
export function processResources(): { fds: number; maps: number } {
  return {
    fds: readdirSync('/proc/self/fd').length,
    maps: readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('memfd:cowpool')).length,
  };
}
