/**
 * What a preopened directory is to the WASI host: a read-only tree of named
 * nodes it can look up one component at a time, stat, list, read and (for
 * symlinks) read the target of. Two kinds implement it: an in-memory tree
 * (memory-tree.ts) and a real directory (directory-tree.ts). Paths are never
 * handed to a tree whole: confinement (`..`, absolute paths, symlinks) is
 * decided once, in path-resolution.ts, for both kinds.
 */
import type { Filetype } from './wasi-abi.js';

/** A node's metadata in preview1's `filestat` terms. */
export interface NodeStat {
  readonly filetype: Filetype;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly nlink: bigint;
  readonly size: bigint;
  readonly atimNs: bigint;
  readonly mtimNs: bigint;
  readonly ctimNs: bigint;
}

/** An open regular file: positional reads, closed once. */
export interface OpenedFile {
  readonly size: number;
  /** Reads up to `into.length` bytes at `position`; returns how many (0 at the end). */
  read(position: number, into: Uint8Array): number;
  close(): void;
}

export interface DirectoryEntry<N> {
  readonly name: string;
  readonly node: N;
}

export interface PreopenTree<N> {
  readonly root: N;
  /**
   * The entry `name` of directory `dir` (never following a symlink), or null
   * when there is none. `name` is one component: never '', '.', '..' or
   * containing '/'.
   */
  child(dir: N, name: string): N | null;
  /** Metadata of `node` itself (a symlink is reported as a symlink). */
  stat(node: N): NodeStat;
  /** The target text of a symlink node. */
  readlink(node: N): string;
  /** The entries of a directory (without '.' and '..'). */
  list(dir: N): readonly DirectoryEntry<N>[];
  /**
   * Opens a regular file for reading; an errno (a number) when the tree
   * refuses (a real file that turned out to lie outside the directory).
   */
  open(node: N): OpenedFile | number;
}
