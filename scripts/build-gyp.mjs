#!/usr/bin/env node
// Builds the addon a second way, with node-gyp and binding.gyp, in a scratch
// directory (so it never clobbers the cmake-js build in build/), then loads
// the result and exercises it. Users of either build tool get the same addon;
// CI runs this to keep binding.gyp honest. Both targets are built: cowpool
// (what users load) and cowpool_test (with the fault-injection hooks).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const gyp = JSON.parse(readFileSync(join(root, 'binding.gyp'), 'utf8'));
const gypSources = [...gyp.variables.cowpool_sources].sort();
const ccSources = readdirSync(join(root, 'native')).filter((f) => f.endsWith('.cc')).map((f) => `native/${f}`).sort();
if (JSON.stringify(gypSources) !== JSON.stringify(ccSources)) {
  console.error(`binding.gyp lists ${gypSources.join(', ')}\nbut native/ has ${ccSources.join(', ')}\nAdd the missing files to binding.gyp's cowpool_sources.`);
  process.exit(1);
}

const nodeGyp = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].find((p) => p && existsSync(p));
if (!nodeGyp) {
  console.error('node-gyp not found: run this through `npm run build:gyp` so npm provides its bundled node-gyp.');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'cowpool-gyp-'));
try {
  cpSync(join(root, 'binding.gyp'), join(work, 'binding.gyp'));
  cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
  const args = [nodeGyp, 'rebuild', '--loglevel=warn'];
  // Build against the headers that ship with this Node when they are present
  // (no download needed).
  const localHeaders = resolve(dirname(process.execPath), '..');
  if (existsSync(join(localHeaders, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${localHeaders}`);
  execFileSync(process.execPath, args, { cwd: work, stdio: 'inherit' });
  for (const [file, build] of [['cowpool.node', 'production'], ['cowpool_test.node', 'test']]) {
    const built = join(work, 'build', 'Release', file);
    const addon = createRequire(import.meta.url)(built);
    if (addon.build !== build || (typeof addon.injectFault === 'function') !== (build === 'test')) {
      throw new Error(`node-gyp build: ${file} says it is the ${addon.build} build, injectFault ${typeof addon.injectFault}; expected the ${build} build`);
    }
    const image = new addon.Image(new Uint8Array([1, 2, 3]));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    addon.mapImage(memory.buffer, image, 0);
    const view = new Uint8Array(memory.buffer);
    view[0] = 42;
    addon.resetMemory(memory.buffer, image, 0, 0);
    if (view[0] !== 1 || view[2] !== 3 || view[3] !== 0) throw new Error(`node-gyp build: ${file}: image map/reset gave wrong bytes`);
    image.release();
    console.log('node-gyp build: ok (%s, %s build)', built, build);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
