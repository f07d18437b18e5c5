/**
 * A preopen backed by a real directory, read-only.
 *
 * Nodes are host paths built one checked component at a time by the
 * resolver (path-resolution.ts), which never follows a symlink out of the
 * tree. What reaches file contents or a listing is opened first and then
 * checked where it really is (`/proc/self/fd/N`): a component swapped for a
 * symlink by another process between the check and the open is refused
 * (ENOTCAPABLE) instead of read. Metadata (`stat`) is read by path with
 * lstat and does not get that second check.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { CowpoolError } from '../errors.js';
import { ERRNO, FILETYPE, type Filetype } from './wasi-abi.js';
import type { DirectoryEntry, NodeStat, OpenedFile, PreopenTree } from './preopen-tree.js';

function filetypeOf(stats: BigIntStats): Filetype {
  if (stats.isFile()) return FILETYPE.REGULAR_FILE;
  if (stats.isDirectory()) return FILETYPE.DIRECTORY;
  if (stats.isSymbolicLink()) return FILETYPE.SYMBOLIC_LINK;
  if (stats.isCharacterDevice()) return FILETYPE.CHARACTER_DEVICE;
  return FILETYPE.UNKNOWN;
}

const MISSING: NodeStat = { filetype: FILETYPE.UNKNOWN, dev: 0n, ino: 0n, nlink: 0n, size: 0n, atimNs: 0n, mtimNs: 0n, ctimNs: 0n };

export class DirectoryTree implements PreopenTree<string> {
  /** The directory's real path (symlinks in the given path resolved once, here). */
  readonly root: string;

  /** @throws CowpoolError INVALID_ARGUMENT when `hostPath` is not a readable directory. */
  constructor(hostPath: string, what: string) {
    let real: string;
    try {
      real = realpathSync(hostPath);
    } catch (cause) {
      throw new CowpoolError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(hostPath)} cannot be opened (${(cause as Error).message}); give an existing directory`, { cause });
    }
    if (!lstatSync(real).isDirectory()) {
      throw new CowpoolError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(hostPath)} is not a directory`);
    }
    this.root = real;
  }

  child(dir: string, name: string): string | null {
    const path = join(dir, name);
    return lstatSync(path, { throwIfNoEntry: false }) === undefined ? null : path;
  }

  stat(node: string): NodeStat {
    let stats: BigIntStats | undefined;
    try {
      stats = lstatSync(node, { bigint: true, throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    if (stats === undefined) return MISSING;
    return {
      filetype: filetypeOf(stats),
      dev: stats.dev,
      ino: stats.ino,
      nlink: stats.nlink,
      size: stats.size,
      atimNs: stats.atimeNs,
      mtimNs: stats.mtimeNs,
      ctimNs: stats.ctimeNs,
    };
  }

  readlink(node: string): string {
    try {
      return readlinkSync(node);
    } catch {
      return '';
    }
  }

  list(dir: string): readonly DirectoryEntry<string>[] {
    const fd = this.#openConfined(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    if (typeof fd !== 'number' || fd < 0) return [];
    try {
      // Listing through the descriptor lists what was checked, not what the path names now.
      return readdirSync(`/proc/self/fd/${fd}`).map((name) => ({ name, node: join(dir, name) }));
    } catch {
      return [];
    } finally {
      closeSync(fd);
    }
  }

  open(node: string): OpenedFile | number {
    // O_NONBLOCK: a FIFO must not block the run; it is refused below anyway.
    const fd = this.#openConfined(node, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (fd < 0) return -fd;
    let size: number;
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) {
        closeSync(fd);
        return stats.isDirectory() ? ERRNO.ISDIR : ERRNO.NOTSUP;
      }
      size = stats.size;
    } catch {
      closeSync(fd);
      return ERRNO.IO;
    }
    let open = true;
    return {
      size,
      read(position: number, into: Uint8Array): number {
        if (!open || into.length === 0) return 0;
        return readSync(fd, into, 0, into.length, position);
      },
      close(): void {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }

  /** Opens `path` and checks that the descriptor lies inside the root; a negative errno when not. */
  #openConfined(path: string, flags: number): number {
    let fd: number;
    try {
      fd = openSync(path, flags);
    } catch (e) {
      const code = (e as { code?: string }).code;
      return code === 'ENOENT' ? -ERRNO.NOENT : code === 'ELOOP' ? -ERRNO.NOTCAPABLE : code === 'ENOTDIR' ? -ERRNO.NOTDIR : -ERRNO.IO;
    }
    let where: string;
    try {
      where = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      where = '';
    }
    if (where !== this.root && !where.startsWith(`${this.root === '/' ? '' : this.root}/`)) {
      closeSync(fd);
      return -ERRNO.NOTCAPABLE;
    }
    return fd;
  }
}
