/**
 * A preopen held in memory: a plain object whose values are file contents
 * (string or bytes), nested objects (directories) or `MemorySymlink`s.
 * Built once per run from the caller's description; read-only for the guest.
 *
 *   { 'a.txt': 'hello', sub: { 'b.bin': Uint8Array, up: new MemorySymlink('../a.txt') } }
 *
 * Inode numbers count up from 1 in the order the tree is walked; times are 0.
 */
import { FILETYPE } from './wasi-abi.js';
import type { DirectoryEntry, NodeStat, OpenedFile, PreopenTree } from './preopen-tree.js';

/** A symbolic link in an in-memory tree; its target is resolved inside the same tree. */
export class MemorySymlink {
  constructor(readonly target: string) {}
}

/** The description of an in-memory directory. */
export interface MemoryDirectory {
  readonly [name: string]: string | Uint8Array | MemorySymlink | MemoryDirectory;
}

type MemNode =
  | { readonly kind: 'file'; readonly ino: bigint; readonly bytes: Uint8Array }
  | { readonly kind: 'symlink'; readonly ino: bigint; readonly target: string }
  | { readonly kind: 'directory'; readonly ino: bigint; readonly entries: Map<string, MemNode> };

const encoder = new TextEncoder();

/** True when `value` describes an in-memory directory (a plain object), not a path. */
export function isMemoryDirectory(value: unknown): value is MemoryDirectory {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !(value instanceof MemorySymlink);
}

export class MemoryTree implements PreopenTree<MemNode> {
  readonly root: MemNode;
  #nextIno = 1n;

  /** @throws TypeError for a name with '/', a NUL or '.'/'..', or a value of another type. */
  constructor(description: MemoryDirectory) {
    this.root = this.#directory(description, '');
  }

  #directory(description: MemoryDirectory, at: string): MemNode {
    const ino = this.#nextIno++;
    const entries = new Map<string, MemNode>();
    for (const [name, value] of Object.entries(description)) {
      const where = `${at}/${name}`;
      if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw new TypeError(`preopens: ${JSON.stringify(where)} is not a valid entry name (no '/', NUL, '.' or '..')`);
      }
      entries.set(name, this.#node(value, where));
    }
    return { kind: 'directory', ino, entries };
  }

  #node(value: unknown, where: string): MemNode {
    if (typeof value === 'string') return { kind: 'file', ino: this.#nextIno++, bytes: encoder.encode(value) };
    if (value instanceof Uint8Array) return { kind: 'file', ino: this.#nextIno++, bytes: value.slice() };
    if (value instanceof MemorySymlink) return { kind: 'symlink', ino: this.#nextIno++, target: value.target };
    if (isMemoryDirectory(value)) return this.#directory(value, where);
    throw new TypeError(`preopens: ${JSON.stringify(where)} must be a string, a Uint8Array, a MemorySymlink or an object (a directory)`);
  }

  child(dir: MemNode, name: string): MemNode | null {
    return dir.kind === 'directory' ? (dir.entries.get(name) ?? null) : null;
  }

  stat(node: MemNode): NodeStat {
    const filetype = node.kind === 'file' ? FILETYPE.REGULAR_FILE : node.kind === 'directory' ? FILETYPE.DIRECTORY : FILETYPE.SYMBOLIC_LINK;
    const size = node.kind === 'file' ? node.bytes.length : node.kind === 'symlink' ? encoder.encode(node.target).length : 0;
    return { filetype, dev: 0n, ino: node.ino, nlink: 1n, size: BigInt(size), atimNs: 0n, mtimNs: 0n, ctimNs: 0n };
  }

  readlink(node: MemNode): string {
    return node.kind === 'symlink' ? node.target : '';
  }

  list(dir: MemNode): readonly DirectoryEntry<MemNode>[] {
    if (dir.kind !== 'directory') return [];
    return [...dir.entries].map(([name, node]) => ({ name, node }));
  }

  open(node: MemNode): OpenedFile {
    const bytes = node.kind === 'file' ? node.bytes : new Uint8Array(0);
    return {
      size: bytes.length,
      read(position: number, into: Uint8Array): number {
        if (position >= bytes.length) return 0;
        const part = bytes.subarray(position, position + into.length);
        into.set(part);
        return part.length;
      },
      close(): void {},
    };
  }
}
