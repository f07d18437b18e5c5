#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack): puts the production addon into
// prebuilds/<platform>-<arch>/cowpool.node, where the loader looks first and
// the install script checks before building anything. The build is cmake-js's
// (incremental: a current build/ costs a second), checked by loading the
// result in a child process: it must be the production build, without test
// hooks. `--clean` (postpack) removes prebuilds/ again, so a checkout never
// loads a binary older than its sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
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
const r = spawnSync(process.execPath, [cmakeJs, 'build', '--log-level', 'warn', '--target', 'cowpool'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);

const built = join(root, 'build', 'Release', 'cowpool.node');
const probe = probeAddon(built);
if (!probe.ok || probe.build !== 'production' || probe.hooks) {
  console.error(`prebuild: ${built} is not a loadable production addon: ${JSON.stringify(probe)}`);
  process.exit(1);
}
const dir = join(prebuilds, `${process.platform}-${process.arch}`);
rmSync(prebuilds, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
copyFileSync(built, join(dir, 'cowpool.node'));
console.error(`prebuild: ${process.platform}-${process.arch}/cowpool.node (production build)`);
