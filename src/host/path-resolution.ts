/**
 * Resolving a guest path inside a preopen, for both kinds of tree. This is
 * where confinement is decided, once:
 *
 *   "/etc/passwd"        absolute                         → ENOTCAPABLE
 *   "../x" at the root   `..` above the preopen          → ENOTCAPABLE
 *   "link" → "/etc"      symlink with an absolute target → ENOTCAPABLE
 *   "link" → "../../x"   symlink leading above the root  → ENOTCAPABLE
 *
 * (ENOTCAPABLE is what node:wasi returns for each of these.) Symlinks are
 * expanded component by component against the directories already walked,
 * so `..` in a target pops a real directory, never a textual prefix; at most
 * 40 are followed (ELOOP). A path is walked from the directory descriptor's
 * own position (`base`), which is itself inside the preopen.
 */
import { ERRNO, FILETYPE } from './wasi-abi.js';
import type { PreopenTree } from './preopen-tree.js';

/** Symlinks followed in one resolution before ELOOP (Linux's limit). */
export const MAX_SYMLINKS = 40;

export interface Resolved<N> {
  readonly node: N;
  /** The names from the preopen's root to `node`, no symlinks among the directories. */
  readonly components: readonly string[];
}

/**
 * Resolves `path` from the directory at `base` (names from the root).
 * `followLast`: a symlink as the last component is followed (else the link
 * itself is the result). Returns the node or an errno.
 */
export function resolvePath<N>(tree: PreopenTree<N>, base: readonly string[], path: string, followLast: boolean): Resolved<N> | number {
  if (path.length === 0) return ERRNO.NOENT;
  if (path.includes('\0')) return ERRNO.INVAL;
  if (path.startsWith('/')) return ERRNO.NOTCAPABLE;
  // Walk the base again: it names directories checked when its descriptor was opened.
  const names: string[] = [];
  const nodes: N[] = [tree.root];
  for (const name of base) {
    const next = tree.child(nodes[nodes.length - 1] as N, name);
    if (next === null || tree.stat(next).filetype !== FILETYPE.DIRECTORY) return ERRNO.NOENT;
    names.push(name);
    nodes.push(next);
  }
  const pending = path.split('/');
  // "dir/" must name a directory, and a trailing slash follows a final symlink.
  let mustBeDirectory = path.endsWith('/');
  let followed = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    const isLast = pending.every((p) => p === '' || p === '.');
    if (name === '' || name === '.') continue;
    const current = nodes[nodes.length - 1] as N;
    if (tree.stat(current).filetype !== FILETYPE.DIRECTORY) return ERRNO.NOTDIR;
    if (name === '..') {
      if (names.length === 0) return ERRNO.NOTCAPABLE;
      names.pop();
      nodes.pop();
      continue;
    }
    const next = tree.child(current, name);
    if (next === null) return ERRNO.NOENT;
    const type = tree.stat(next).filetype;
    if (type === FILETYPE.SYMBOLIC_LINK && (!isLast || followLast || mustBeDirectory)) {
      if (++followed > MAX_SYMLINKS) return ERRNO.LOOP;
      const target = tree.readlink(next);
      if (target.length === 0) return ERRNO.NOENT;
      if (target.startsWith('/')) return ERRNO.NOTCAPABLE;
      if (target.endsWith('/') && isLast) mustBeDirectory = true;
      pending.unshift(...target.split('/'));
      continue;
    }
    names.push(name);
    nodes.push(next);
  }
  const node = nodes[nodes.length - 1] as N;
  if (mustBeDirectory && tree.stat(node).filetype !== FILETYPE.DIRECTORY) return ERRNO.NOTDIR;
  return { node, components: names };
}
