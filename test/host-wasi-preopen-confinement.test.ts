/**
 * Preopens are read-only and confined: nothing outside the preopen is
 * reached by `..`, absolute paths or symlinks (ENOTCAPABLE, as node:wasi),
 * nothing is created or truncated, symlink loops end in ELOOP, a real
 * directory's files are checked where they really are after opening, and no
 * host descriptor outlives its run.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySymlink, runWasi, WasiHost, type MemoryDirectory } from '../src/index.js';
import { DirectoryTree } from '../src/host/directory-tree.js';
import { MemoryTree } from '../src/host/memory-tree.js';
import { resolvePath } from '../src/host/path-resolution.js';
import { ERRNO } from '../src/host/wasi-abi.js';
import { watModule } from './helpers/wat-module.js';
import { corpusModule, makeSandbox } from './helpers/wasi-corpus.js';

const { root, sandbox } = makeSandbox();
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A module whose `open(oflags, rights, path...)` calls path_open on fd 3 and returns the errno (the fd is left open). */
const OPEN_WAT = `(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "open") (param $oflags i32) (param $rights i64) (param $fdflags i32) (param $len i32) (result i32)
    (call $path_open (i32.const 3) (i32.const 1) (i32.const 1024) (local.get $len) (local.get $oflags) (local.get $rights) (i64.const 0) (local.get $fdflags) (i32.const 0)))
  (func (export "_start")))`;

async function opener(preopen: string | MemoryDirectory) {
  const host = new WasiHost();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(await watModule(OPEN_WAT)), host.imports);
  const memory = instance.exports['memory'] as WebAssembly.Memory;
  host.begin({ preopens: { '/sandbox': preopen } }).memory = memory;
  const open = (path: string, oflags = 0, rights = 2n, fdflags = 0): number => {
    const bytes = new TextEncoder().encode(path);
    new Uint8Array(memory.buffer, 1024, bytes.length).set(bytes);
    return (instance.exports['open'] as (o: number, r: bigint, f: number, l: number) => number)(oflags, rights, fdflags, bytes.length);
  };
  return { open, end: () => host.end() };
}

describe('WASI preopens: read-only', () => {
  it('creating, truncating, appending or asking for write rights is ENOTCAPABLE; reading works', async () => {
    for (const preopen of [sandbox, { 'hello.txt': 'hi' }] as const) {
      const { open, end } = await opener(preopen);
      expect(open('hello.txt')).toBe(ERRNO.SUCCESS);
      expect(open('new.txt', 1 /* CREAT */)).toBe(ERRNO.NOTCAPABLE);
      expect(open('hello.txt', 8 /* TRUNC */)).toBe(ERRNO.NOTCAPABLE);
      expect(open('hello.txt', 0, 2n | 64n /* FD_WRITE */)).toBe(ERRNO.NOTCAPABLE);
      expect(open('hello.txt', 0, 2n, 1 /* APPEND */)).toBe(ERRNO.NOTCAPABLE);
      end();
    }
    expect(readdirSync(sandbox).sort()).toEqual(['hello.txt', 'link-out', 'link-up', 'sub']);
  });
});

describe('WASI preopens: confinement', () => {
  it('escapes are ENOTCAPABLE, loops ELOOP, in both kinds of tree', async () => {
    const tree: MemoryDirectory = {
      'hello.txt': 'hi',
      sub: { inner: { 'x.txt': 'x' } },
      'link-abs': new MemorySymlink('/etc/passwd'),
      'link-up': new MemorySymlink('../outside.txt'),
      'link-deep-up': new MemorySymlink('sub/inner/../../..'),
      'loop-a': new MemorySymlink('loop-b'),
      'loop-b': new MemorySymlink('loop-a'),
      'link-in': new MemorySymlink('sub/inner/x.txt'),
    };
    const { open, end } = await opener(tree);
    expect(open('/etc/passwd')).toBe(ERRNO.NOTCAPABLE);
    expect(open('..')).toBe(ERRNO.NOTCAPABLE);
    expect(open('sub/../..')).toBe(ERRNO.NOTCAPABLE);
    expect(open('sub/inner/../../../hello.txt')).toBe(ERRNO.NOTCAPABLE);
    expect(open('link-abs')).toBe(ERRNO.NOTCAPABLE);
    expect(open('link-up')).toBe(ERRNO.NOTCAPABLE);
    expect(open('link-deep-up')).toBe(ERRNO.NOTCAPABLE);
    expect(open('loop-a')).toBe(ERRNO.LOOP);
    expect(open('link-in')).toBe(ERRNO.SUCCESS);
    expect(open('sub/inner/../../hello.txt')).toBe(ERRNO.SUCCESS);
    expect(open('hello.txt/')).toBe(ERRNO.NOTDIR);
    end();
  });

  it('a real file reached through a directory swapped for a symlink out is refused after opening', () => {
    // The resolver never hands such a path to the tree; this checks the tree's own second line.
    const tree = new DirectoryTree(sandbox, 'test');
    const outsideDir = mkdtempSync(join(tmpdir(), 'cowpool-outside-'));
    writeFileSync(join(outsideDir, 'secret.txt'), 'secret');
    symlinkSync(outsideDir, join(sandbox, 'swapped'));
    try {
      expect(tree.open(join(tree.root, 'swapped', 'secret.txt'))).toBe(ERRNO.NOTCAPABLE);
      expect(tree.list(join(tree.root, 'swapped'))).toEqual([]);
      const inside = tree.open(join(tree.root, 'hello.txt'));
      expect(typeof inside).toBe('object');
      if (typeof inside === 'object') inside.close();
    } finally {
      rmSync(join(sandbox, 'swapped'));
      rmSync(outsideDir, { recursive: true, force: true });
    }
  });

  it('a real directory and the same tree in memory resolve every path alike; results name real directories only', () => {
    const base = mkdtempSync(join(tmpdir(), 'cowpool-resolve-'));
    const disk = join(base, 'root');
    mkdirSync(join(disk, 'a', 'b'), { recursive: true });
    writeFileSync(join(disk, 'f'), 'f');
    writeFileSync(join(disk, 'a', 'g'), 'g');
    symlinkSync('a', join(disk, 'la'));
    symlinkSync('../f', join(disk, 'a', 'lf'));
    symlinkSync('../..', join(disk, 'a', 'b', 'lup'));
    symlinkSync('/tmp', join(disk, 'labs'));
    symlinkSync('lx', join(disk, 'lx'));
    const memory = new MemoryTree({
      f: 'f',
      a: { g: 'g', b: { lup: new MemorySymlink('../..') }, lf: new MemorySymlink('../f') },
      la: new MemorySymlink('a'),
      labs: new MemorySymlink('/tmp'),
      lx: new MemorySymlink('lx'),
    });
    const real = new DirectoryTree(disk, 'test');
    const component = fc.constantFrom('a', 'b', 'f', 'g', 'la', 'lf', 'lup', 'labs', 'lx', '..', '.', '', 'missing');
    try {
      fc.assert(
        fc.property(fc.array(component, { minLength: 1, maxLength: 6 }), fc.boolean(), (parts, follow) => {
          const path = parts.join('/');
          const fromMemory = resolvePath(memory, [], path, follow);
          const fromDisk = resolvePath(real, [], path, follow);
          if (typeof fromMemory === 'number' || typeof fromDisk === 'number') {
            expect({ path, errno: fromDisk }).toEqual({ path, errno: fromMemory });
            return;
          }
          expect(fromDisk.components).toEqual(fromMemory.components);
          expect(fromDisk.node).toBe(join(real.root, ...fromDisk.components));
          expect(fromMemory.components.every((c) => c !== '..' && c !== '.' && c !== '')).toBe(true);
          // The directories on the way are real ones: resolving them without following gives the same node.
          const again = resolvePath(memory, [], fromMemory.components.join('/') || '.', false);
          expect(typeof again === 'number' ? again : again.node).toBe(fromMemory.node);
        }),
        { numRuns: 600 },
      );
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('WASI preopens: descriptors', () => {
  it('files a program leaves open are closed when its run ends', async () => {
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) {
      const { open, end } = await opener(sandbox);
      for (let k = 0; k < 5; k++) expect(open('hello.txt')).toBe(ERRNO.SUCCESS);
      end();
      runWasi(corpusModule('preopen-dir'), { preopens: { '/sandbox': sandbox } });
    }
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});
