// Loads an addon file in a child process and reports what it is, so a binary
// that crashes or fails to link (an older C library, another architecture)
// cannot take the caller down with it. Used by the install script (is the
// shipped binary usable here?) and the prepack step (is what we ship right?).
import { spawnSync } from 'node:child_process';

/**
 * @param {string} path  an addon file (cowpool.node)
 * @param {{ command?: string[], exercise?: boolean }} [options]
 *   command: how to start node (default: this node; e.g. [qemu, -L, sysroot, node-arm64]);
 *   exercise: also map an image into a wasm memory, write, reset and check the bytes
 * @returns {{ ok: true, build: string, hooks: boolean, memfd: boolean, arch: string } | { ok: false, error: string }}
 */
export function probeAddon(path, { command = [process.execPath], exercise = false } = {}) {
  const script = `const a = require(${JSON.stringify(path)});
    if (typeof a.Image !== 'function') throw new Error('not the cowpool addon (no Image export)');
    if (${exercise} && a.support.memfd) {
      const image = new a.Image(new Uint8Array([1, 2, 3]));
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
      a.mapImage(memory.buffer, image, 0);
      const view = new Uint8Array(memory.buffer);
      view[0] = 42;
      a.resetMemory(memory.buffer, image, 0, 0);
      if (view[0] !== 1 || view[2] !== 3 || view[3] !== 0) throw new Error('image map/reset gave wrong bytes');
      image.release();
    }
    process.stdout.write(JSON.stringify({ build: a.build, hooks: typeof a.injectFault === 'function', memfd: a.support.memfd, arch: process.arch }));`;
  const [file, ...args] = command;
  const r = spawnSync(file, [...args, '-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COWPOOL_FAULT_INJECT: '' } });
  if (r.status !== 0) {
    const reason = r.error?.message ?? (r.stderr.trim().split('\n').find((l) => /Error/.test(l)) || `exit ${r.status ?? r.signal}`);
    return { ok: false, error: reason };
  }
  return { ok: true, ...JSON.parse(r.stdout) };
}
