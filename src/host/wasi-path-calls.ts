/**
 * preview1 calls that take a path: path_open and path_filestat_get. A path
 * is resolved by path-resolution.ts from the directory descriptor's position
 * inside its preopen, so nothing outside the preopen is ever reached.
 * Preopens are read-only: creating, truncating or asking for write rights is
 * refused with ENOTCAPABLE (the directory's rights do not include them).
 */
import { guestView, readString, writeU32 } from './guest-memory.js';
import type { Descriptor } from './fd-table.js';
import { resolvePath, type Resolved } from './path-resolution.js';
import { writeFilestat } from './wasi-fd-calls.js';
import { DIRECTORY_RIGHTS, ERRNO, FDFLAGS, FILE_RIGHTS, FILETYPE, LOOKUP_SYMLINK_FOLLOW, OFLAGS, RIGHTS } from './wasi-abi.js';
import type { WasiRun } from './wasi-run.js';

/** Rights that would let a descriptor change a file. */
const WRITE_RIGHTS = RIGHTS.FD_WRITE | RIGHTS.FD_DATASYNC | RIGHTS.FD_SYNC | RIGHTS.FD_ALLOCATE | RIGHTS.PATH_FILESTAT_SET_SIZE
  | (1n << 22n) /* fd_filestat_set_size */ | (1n << 23n) /* fd_filestat_set_times */;

type DirectoryDescriptor = Extract<Descriptor, { kind: 'directory' }>;

/** The directory descriptor `fd` with `right`, or an errno. */
function directory(run: WasiRun, fd: number, right: bigint): DirectoryDescriptor | number {
  const entry = run.fds.get(fd);
  if (entry === undefined) return ERRNO.BADF;
  if (entry.kind !== 'directory') return ERRNO.NOTDIR;
  if ((entry.rights & right) === 0n) return ERRNO.NOTCAPABLE;
  return entry;
}

function resolveIn(run: WasiRun, dir: DirectoryDescriptor, pathPtr: number, pathLength: number, follow: boolean): Resolved<unknown> | number {
  const path = readString(run, pathPtr, pathLength, true);
  if (path === null) return ERRNO.INVAL;
  return resolvePath(dir.preopen.tree, dir.components, path, follow);
}

export const pathCalls = {
  path_open(
    run: WasiRun,
    fd: number,
    dirflags: number,
    pathPtr: number,
    pathLength: number,
    oflags: number,
    rightsBase: bigint,
    _rightsInheriting: bigint,
    fdflags: number,
    resultPtr: number,
  ): number {
    const dir = directory(run, fd, RIGHTS.PATH_OPEN);
    if (typeof dir === 'number') return dir;
    guestView(run, resultPtr, 4);
    if ((oflags & (OFLAGS.CREAT | OFLAGS.TRUNC)) !== 0) return ERRNO.NOTCAPABLE;
    if ((fdflags & (FDFLAGS.APPEND | FDFLAGS.DSYNC | FDFLAGS.SYNC)) !== 0) return ERRNO.NOTCAPABLE;
    if ((BigInt.asUintN(64, rightsBase) & WRITE_RIGHTS) !== 0n) return ERRNO.NOTCAPABLE;
    const resolved = resolveIn(run, dir, pathPtr, pathLength, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof resolved === 'number') return resolved;
    const tree = dir.preopen.tree;
    const type = tree.stat(resolved.node).filetype;
    let opened: Descriptor;
    if (type === FILETYPE.DIRECTORY) {
      opened = {
        kind: 'directory',
        preopen: dir.preopen,
        components: resolved.components,
        // Read-only whatever was asked: a host ignoring the request's extra bits is what wasi-libc expects.
        rights: DIRECTORY_RIGHTS & dir.inheriting,
        inheriting: dir.inheriting,
        prestatName: null,
        listing: null,
      };
    } else if ((oflags & OFLAGS.DIRECTORY) !== 0) {
      return ERRNO.NOTDIR;
    } else if (type === FILETYPE.SYMBOLIC_LINK) {
      // O_NOFOLLOW on a symlink.
      return ERRNO.LOOP;
    } else if (type === FILETYPE.REGULAR_FILE) {
      const file = tree.open(resolved.node);
      if (typeof file === 'number') return file;
      opened = { kind: 'file', preopen: dir.preopen, node: resolved.node, file, rights: FILE_RIGHTS & dir.inheriting, position: 0 };
    } else {
      return ERRNO.NOTSUP;
    }
    const newFd = run.fds.add(opened);
    if (newFd === null) {
      if (opened.kind === 'file') opened.file.close();
      return ERRNO.MFILE;
    }
    writeU32(run, resultPtr, newFd);
    return ERRNO.SUCCESS;
  },

  path_filestat_get(run: WasiRun, fd: number, flags: number, pathPtr: number, pathLength: number, resultPtr: number): number {
    const dir = directory(run, fd, RIGHTS.PATH_FILESTAT_GET);
    if (typeof dir === 'number') return dir;
    guestView(run, resultPtr, 64);
    const resolved = resolveIn(run, dir, pathPtr, pathLength, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (typeof resolved === 'number') return resolved;
    writeFilestat(run, resultPtr, dir.preopen.tree.stat(resolved.node));
    return ERRNO.SUCCESS;
  },
};
