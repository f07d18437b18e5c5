/**
 * preview1 calls on descriptors: stdio reads and writes, fdstat, prestat,
 * seek/tell, filestat, readdir and close. Files and directories come from
 * read-only preopens, so nothing here writes to a file.
 */
import { guestBytes, guestView, writeBytes, writeU32, writeU64 } from './guest-memory.js';
import type { Descriptor } from './fd-table.js';
import type { NodeStat } from './preopen-tree.js';
import { resolvePath } from './path-resolution.js';
import { ERRNO, FILETYPE, RIGHTS, SIZE, STDIN_RIGHTS, STDOUT_RIGHTS, WHENCE } from './wasi-abi.js';
import type { WasiRun } from './wasi-run.js';

const encoder = new TextEncoder();

/** The guest buffers an iovec array names, every one checked before any is used. */
function iovecs(run: WasiRun, iovsPtr: number, iovsLength: number): Uint8Array[] {
  const n = iovsLength >>> 0;
  const list = guestView(run, iovsPtr, n * SIZE.IOVEC);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    out.push(guestBytes(run, list.getUint32(i * SIZE.IOVEC, true), list.getUint32(i * SIZE.IOVEC + 4, true)));
  }
  return out;
}

/** The node a directory descriptor names now, or an errno. */
export function directoryNode(descriptor: Extract<Descriptor, { kind: 'directory' }>): unknown {
  const resolved = resolvePath(descriptor.preopen.tree, descriptor.components, '.', true);
  return typeof resolved === 'number' ? resolved : resolved.node;
}

export function writeFilestat(run: WasiRun, ptr: number, stat: NodeStat): void {
  const view = guestView(run, ptr, SIZE.FILESTAT);
  view.setBigUint64(0, stat.dev, true);
  view.setBigUint64(8, stat.ino, true);
  view.setUint8(16, stat.filetype);
  for (let b = 17; b < 24; b++) view.setUint8(b, 0);
  view.setBigUint64(24, stat.nlink, true);
  view.setBigUint64(32, stat.size, true);
  view.setBigUint64(40, stat.atimNs, true);
  view.setBigUint64(48, stat.mtimNs, true);
  view.setBigUint64(56, stat.ctimNs, true);
}

const STDIO_STAT: NodeStat = { filetype: FILETYPE.UNKNOWN, dev: 0n, ino: 0n, nlink: 1n, size: 0n, atimNs: 0n, mtimNs: 0n, ctimNs: 0n };

export const fdCalls = {
  fd_read(run: WasiRun, fd: number, iovsPtr: number, iovsLength: number, nreadPtr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    if (entry.kind === 'directory') return ERRNO.ISDIR;
    if (entry.kind === 'output' || (entry.kind === 'file' && (entry.rights & RIGHTS.FD_READ) === 0n)) return ERRNO.NOTCAPABLE;
    const buffers = iovecs(run, iovsPtr, iovsLength);
    guestView(run, nreadPtr, 4);
    let total = 0;
    if (entry.kind === 'stdin') {
      const stdin = run.options.stdin;
      for (const buffer of buffers) {
        const part = stdin.subarray(run.stdinPosition, run.stdinPosition + buffer.length);
        buffer.set(part);
        run.stdinPosition += part.length;
        total += part.length;
        if (part.length < buffer.length) break;
      }
    } else {
      for (const buffer of buffers) {
        const got = entry.file.read(entry.position, buffer);
        entry.position += got;
        total += got;
        if (got < buffer.length) break;
      }
    }
    writeU32(run, nreadPtr, total);
    return ERRNO.SUCCESS;
  },

  fd_write(run: WasiRun, fd: number, iovsPtr: number, iovsLength: number, nwrittenPtr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    if (entry.kind !== 'output') return ERRNO.NOTCAPABLE;
    const buffers = iovecs(run, iovsPtr, iovsLength);
    guestView(run, nwrittenPtr, 4);
    let total = 0;
    for (const buffer of buffers) {
      entry.sink.write(buffer);
      total += buffer.length;
    }
    writeU32(run, nwrittenPtr, total);
    return ERRNO.SUCCESS;
  },

  fd_fdstat_get(run: WasiRun, fd: number, ptr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    const view = guestView(run, ptr, SIZE.FDSTAT);
    let filetype: number = FILETYPE.UNKNOWN;
    let rights = 0n;
    let inheriting = 0n;
    if (entry.kind === 'stdin') rights = STDIN_RIGHTS;
    else if (entry.kind === 'output') rights = STDOUT_RIGHTS;
    else if (entry.kind === 'file') {
      filetype = FILETYPE.REGULAR_FILE;
      rights = entry.rights;
    } else {
      filetype = FILETYPE.DIRECTORY;
      rights = entry.rights;
      inheriting = entry.inheriting;
    }
    for (let b = 0; b < SIZE.FDSTAT; b++) view.setUint8(b, 0);
    view.setUint8(0, filetype);
    view.setUint16(2, 0, true);
    view.setBigUint64(8, rights, true);
    view.setBigUint64(16, inheriting, true);
    return ERRNO.SUCCESS;
  },

  fd_prestat_get(run: WasiRun, fd: number, ptr: number): number {
    const entry = run.fds.get(fd);
    // EBADF for anything but a preopen: wasi-libc stops scanning for preopens at the first EBADF.
    if (entry?.kind !== 'directory' || entry.prestatName === null) return ERRNO.BADF;
    const view = guestView(run, ptr, SIZE.PRESTAT);
    view.setUint32(0, 0, true);
    view.setUint32(4, encoder.encode(entry.prestatName).length, true);
    return ERRNO.SUCCESS;
  },

  fd_prestat_dir_name(run: WasiRun, fd: number, ptr: number, length: number): number {
    const entry = run.fds.get(fd);
    if (entry?.kind !== 'directory' || entry.prestatName === null) return ERRNO.BADF;
    const name = encoder.encode(entry.prestatName);
    if ((length >>> 0) < name.length) return ERRNO.NOBUFS;
    writeBytes(run, ptr, name);
    return ERRNO.SUCCESS;
  },

  fd_close(run: WasiRun, fd: number): number {
    return run.fds.close(fd) ? ERRNO.SUCCESS : ERRNO.BADF;
  },

  fd_seek(run: WasiRun, fd: number, offset: bigint, whence: number, resultPtr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    if (entry.kind === 'stdin' || entry.kind === 'output') return ERRNO.SPIPE;
    if (entry.kind === 'directory' || (entry.rights & RIGHTS.FD_SEEK) === 0n) return ERRNO.NOTCAPABLE;
    guestView(run, resultPtr, 8);
    const base = whence === WHENCE.SET ? 0n : whence === WHENCE.CUR ? BigInt(entry.position) : whence === WHENCE.END ? BigInt(entry.file.size) : null;
    if (base === null) return ERRNO.INVAL;
    const next = base + offset;
    if (next < 0n) return ERRNO.INVAL;
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) return ERRNO.OVERFLOW;
    entry.position = Number(next);
    writeU64(run, resultPtr, next);
    return ERRNO.SUCCESS;
  },

  fd_tell(run: WasiRun, fd: number, resultPtr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    if (entry.kind === 'stdin' || entry.kind === 'output') return ERRNO.SPIPE;
    if (entry.kind === 'directory' || (entry.rights & RIGHTS.FD_TELL) === 0n) return ERRNO.NOTCAPABLE;
    writeU64(run, resultPtr, BigInt(entry.position));
    return ERRNO.SUCCESS;
  },

  fd_filestat_get(run: WasiRun, fd: number, ptr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    guestView(run, ptr, SIZE.FILESTAT);
    if (entry.kind === 'stdin' || entry.kind === 'output') {
      writeFilestat(run, ptr, STDIO_STAT);
      return ERRNO.SUCCESS;
    }
    const node = entry.kind === 'file' ? entry.node : directoryNode(entry);
    if (typeof node === 'number') return node;
    writeFilestat(run, ptr, entry.preopen.tree.stat(node));
    return ERRNO.SUCCESS;
  },

  fd_readdir(run: WasiRun, fd: number, bufPtr: number, bufLength: number, cookie: bigint, bufusedPtr: number): number {
    const entry = run.fds.get(fd);
    if (entry === undefined) return ERRNO.BADF;
    if (entry.kind !== 'directory') return ERRNO.NOTDIR;
    if ((entry.rights & RIGHTS.FD_READDIR) === 0n) return ERRNO.NOTCAPABLE;
    const out = guestBytes(run, bufPtr, bufLength);
    guestView(run, bufusedPtr, 4);
    if (cookie === 0n || entry.listing === null) {
      const node = directoryNode(entry);
      if (typeof node === 'number') return node;
      entry.listing = entry.preopen.tree.list(node);
    }
    const tree = entry.preopen.tree;
    let used = 0;
    for (let i = Number(BigInt.asUintN(53, cookie)); i < entry.listing.length && used < out.length; i++) {
      const item = entry.listing[i] as (typeof entry.listing)[number];
      const name = encoder.encode(item.name);
      const stat = tree.stat(item.node);
      const record = new Uint8Array(SIZE.DIRENT + name.length);
      const view = new DataView(record.buffer);
      view.setBigUint64(0, BigInt(i + 1), true);
      view.setBigUint64(8, stat.ino, true);
      view.setUint32(16, name.length, true);
      view.setUint8(20, stat.filetype);
      record.set(name, SIZE.DIRENT);
      // A record that does not fit is cut: the guest sees a full buffer and asks again with a larger one.
      const part = record.subarray(0, out.length - used);
      out.set(part, used);
      used += part.length;
    }
    writeU32(run, bufusedPtr, used);
    return ERRNO.SUCCESS;
  },
};
