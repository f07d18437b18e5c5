#!/usr/bin/env node
// The package's install step. A package from the registry carries a prebuilt
// addon for linux-x64 (prebuilds/<platform>-<arch>/cowpool.node); when that
// binary loads here (tried in a child process), there is nothing to do and no
// compiler is needed. Otherwise (another architecture, a C library too old
// for the binary, a git checkout, or COWPOOL_BUILD_FROM_SOURCE=1) the addon
// is built from source with cmake-js into build/Release, which needs cmake
// and a C++17 compiler. Installing with --ignore-scripts skips this step; the
// loader then uses the prebuilt binary directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeAddon } from './native-probe.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const platform = `${process.platform}-${process.arch}`;
const prebuilt = join(root, 'prebuilds', platform, 'cowpool.node');

function buildFromSource(why) {
  console.error(`cowpool: building the addon from source (${why}); this needs cmake and a C++17 compiler`);
  const cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('cowpool: building the addon failed; install cmake and a C++ compiler (Debian: apt-get install cmake g++), or use linux-x64, which has a prebuilt binary');
    process.exit(r.status ?? 1);
  }
}

if (process.env.COWPOOL_BUILD_FROM_SOURCE === '1') {
  buildFromSource('COWPOOL_BUILD_FROM_SOURCE=1');
} else if (!existsSync(prebuilt)) {
  buildFromSource(`no prebuilt binary for ${platform}`);
} else {
  const probe = probeAddon(prebuilt);
  if (!probe.ok) buildFromSource(`the prebuilt binary for ${platform} does not load here: ${probe.error}`);
}
