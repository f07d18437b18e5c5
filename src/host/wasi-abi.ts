/**
 * The WASI preview1 ABI as numbers: errno values, file types, flags, rights
 * and the byte layout of the records the host writes into guest memory
 * (witx `wasi_snapshot_preview1`, little-endian, wasm32).
 */

/** errno values the host returns (the full list is preview1's `errno` enum). */
export const ERRNO = {
  SUCCESS: 0,
  BADF: 8,
  EXIST: 20,
  FAULT: 21,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  LOOP: 32,
  MFILE: 33,
  NAMETOOLONG: 37,
  NOBUFS: 42,
  NOENT: 44,
  NOSYS: 52,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTSUP: 58,
  OVERFLOW: 61,
  PERM: 63,
  ROFS: 69,
  SPIPE: 70,
  NOTCAPABLE: 76,
} as const;
export type Errno = (typeof ERRNO)[keyof typeof ERRNO];

export const FILETYPE = {
  UNKNOWN: 0,
  CHARACTER_DEVICE: 2,
  DIRECTORY: 3,
  REGULAR_FILE: 4,
  SYMBOLIC_LINK: 7,
} as const;
export type Filetype = (typeof FILETYPE)[keyof typeof FILETYPE];

export const CLOCK = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

export const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;

export const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;

export const LOOKUP_SYMLINK_FOLLOW = 1;

export const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;

export const EVENTTYPE = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;

/** `subclockflags.subscription_clock_abstime`. */
export const SUBCLOCK_ABSTIME = 1;

/** Rights bits (u64, as bigint). */
export const RIGHTS = {
  FD_DATASYNC: 1n << 0n,
  FD_READ: 1n << 1n,
  FD_SEEK: 1n << 2n,
  FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n,
  FD_TELL: 1n << 5n,
  FD_WRITE: 1n << 6n,
  FD_ADVISE: 1n << 7n,
  FD_ALLOCATE: 1n << 8n,
  PATH_CREATE_DIRECTORY: 1n << 9n,
  PATH_CREATE_FILE: 1n << 10n,
  PATH_OPEN: 1n << 13n,
  FD_READDIR: 1n << 14n,
  PATH_READLINK: 1n << 15n,
  PATH_FILESTAT_GET: 1n << 18n,
  PATH_FILESTAT_SET_SIZE: 1n << 19n,
  FD_FILESTAT_GET: 1n << 21n,
  POLL_FD_READWRITE: 1n << 27n,
} as const;

/** What an open read-only file may do. */
export const FILE_RIGHTS = RIGHTS.FD_READ | RIGHTS.FD_SEEK | RIGHTS.FD_TELL | RIGHTS.FD_ADVISE
  | RIGHTS.FD_FILESTAT_GET | RIGHTS.POLL_FD_READWRITE;
/** What an open read-only directory may do. */
export const DIRECTORY_RIGHTS = RIGHTS.PATH_OPEN | RIGHTS.FD_READDIR | RIGHTS.PATH_READLINK
  | RIGHTS.PATH_FILESTAT_GET | RIGHTS.FD_FILESTAT_GET;
/** What a directory hands to what is opened through it: nothing that writes. */
export const DIRECTORY_INHERITING = DIRECTORY_RIGHTS | FILE_RIGHTS;
export const STDIN_RIGHTS = RIGHTS.FD_READ | RIGHTS.POLL_FD_READWRITE;
export const STDOUT_RIGHTS = RIGHTS.FD_WRITE | RIGHTS.POLL_FD_READWRITE;

/** Byte sizes of the records the host reads or writes. */
export const SIZE = {
  IOVEC: 8,
  FDSTAT: 24,
  FILESTAT: 64,
  PRESTAT: 8,
  DIRENT: 24,
  SUBSCRIPTION: 48,
  EVENT: 32,
} as const;

/**
 * Every function of wasi_snapshot_preview1. The host
 * implements a subset; every other name is bound to a function returning
 * ENOSYS, so any preview1 program links.
 */
export const PREVIEW1_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
] as const;
export type Preview1Function = (typeof PREVIEW1_FUNCTIONS)[number];

export const WASI_MODULE = 'wasi_snapshot_preview1';
