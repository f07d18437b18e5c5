// Loads an addon file in a child process and reports what it is, so a binary
// that crashes or fails to link (an older C library, another architecture)
// cannot take the caller down with it. Used by the install script (is the
// shipped binary usable here?) and the prepack step (is what we ship right?).
import { spawnSync } from 'node:child_process';

/**
 * @param {string} path  an addon file (cowpool.node)
 * @param {string} [node]  the node binary to load it with (default: this one)
 * @returns {{ ok: true, build: string, hooks: boolean, memfd: boolean } | { ok: false, error: string }}
 */
export function probeAddon(path, node = process.execPath) {
  const script = `const a = require(${JSON.stringify(path)});
    if (typeof a.Image !== 'function') throw new Error('not the cowpool addon (no Image export)');
    process.stdout.write(JSON.stringify({ build: a.build, hooks: typeof a.injectFault === 'function', memfd: a.support.memfd }));`;
  const r = spawnSync(node, ['-e', script], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, COWPOOL_FAULT_INJECT: '' } });
  if (r.status !== 0) {
    const reason = r.error?.message ?? (r.stderr.trim().split('\n').find((l) => /Error/.test(l)) || `exit ${r.status ?? r.signal}`);
    return { ok: false, error: reason };
  }
  return { ok: true, ...JSON.parse(r.stdout) };
}
