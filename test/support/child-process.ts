/**
 * Runs an ES module snippet in a separate Node process against the project's
 * TypeScript sources, so a test can give it its own environment (the addon
 * reads COWPOOL_DISABLE once per process) or survive it crashing. The child
 * loads the sources through test/helpers/reliability-ts-register.mjs (Node 20
 * cannot run TypeScript itself); `SRC` in the snippet is the URL of src/.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const register = fileURLToPath(new URL('../helpers/reliability-ts-register.mjs', import.meta.url));
const src = new URL('../../src/', import.meta.url).href;
// The suite runs against the test build (vitest.config.ts sets COWPOOL_NATIVE_BUILD=test).
const addonPath = fileURLToPath(new URL('../../build/Release/cowpool_test.node', import.meta.url));

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runChild(script: string, env: Record<string, string>, nodeArgs: readonly string[] = []): ChildResult {
  const r = spawnSync(
    process.execPath,
    [...nodeArgs, '--import', register, '--input-type=module', '-e', `const SRC = ${JSON.stringify(src)};\n${script}`],
    { env: { ...process.env, COWPOOL_NATIVE_PATH: addonPath, ...env }, encoding: 'utf8', timeout: 120_000 },
  );
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
