/**
 * Loads the native addon and describes its primitives. Nothing outside
 * `src/slots` and the tests should call these directly: they validate their
 * arguments but hold no policy.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CowpoolError, fromNative } from '../errors.js';

/** A module's initial memory in a sealed memfd, shared by content across threads. */
export interface NativeImage {
  /**
   * File size: the length asked for (a V8 slot's whole initial memory, the
   * part past the data left as holes), else the data length rounded up to
   * the page size.
   */
  readonly byteLength: number;
  readonly dataLength: number;
  /** Hex hash of the data and the file size (the registry key). */
  readonly hash: string;
  /** The memfd, for diagnostics and tests only. Never close or write it. */
  readonly fd: number;
  readonly released: boolean;
  seals(): { write: boolean; shrink: boolean; grow: boolean; seal: boolean };
  /** Drops this holder's reference; idempotent. Mappings already made stay valid. */
  release(): void;
}

/** An addon-reserved range with guard pages, exposed as an external ArrayBuffer. */
export interface NativeRawSlot {
  readonly size: number;
  readonly maxBytes: number;
  readonly guardBytes: number;
  readonly imageLength: number;
  readonly address: bigint;
  readonly destroyed: boolean;
  /**
   * Buffers of this slot moved out by JS (transfer, a transfer list) whose
   * last holder is still alive. While > 0 the slot is quarantined: reset and
   * configure refuse, destroy leaves the range mapped until they are gone.
   */
  readonly escapedBuffers: number;
  /** Escapes noticed over the slot's life. */
  readonly escapes: number;
  configure(image: NativeImage | null, initialBytes: number): void;
  buffer(): ArrayBuffer;
  grow(newBytes: number): void;
  /**
   * Puts the image part back by `mode` (see NativeResetMode), truncates the
   * rest to zeros and the size to `initialBytes`. Returns the bytes restored
   * by copying; fills `stats` (RESET_STAT layout) when given.
   */
  reset(
    mode: number,
    keepResidentBytes: number,
    initialBytes: number,
    maxResidentBytes?: number,
    flags?: number,
    stats?: Float64Array,
  ): number;
  /** Bytes of [base, base + size) held in private pages (diagnostic). */
  residentPrivateBytes(): number;
  destroy(): void;
}

/** Numeric reset modes understood by the addon. */
export const NativeResetMode = {
  /** madvise(MADV_DONTNEED) the whole range. */
  madvise: 0,
  /** Copy the first keepResidentBytes back, madvise the rest. */
  keepResident: 1,
  /** PAGEMAP_SCAN for private pages, copy exactly those back (Linux 6.7+). */
  restoreDirty: 2,
  /** The same, reading /proc/self/pagemap entries (any kernel). */
  restoreDirtyRead: 3,
  /** userfaultfd async write-protect: copy back the pages written since the last reset. */
  trackWrites: 4,
} as const;

/** Flags for the reset calls. */
export const NativeResetFlag = {
  /** Discard every private page whatever the mode (tracking is re-armed). */
  trim: 1,
  /** madvise/keep-resident: count private pages first (RESET_STAT.foundPages). */
  count: 2,
  /** track-writes: count private pages afterwards, trim when above maxResidentBytes. */
  checkCap: 4,
  /** Other modes: first drop the range's write-tracking registration (a slot leaving track-writes). */
  untrack: 8,
  /**
   * restore-dirty: drop (madvise) the private pages that already hold their
   * pristine bytes instead of copying them, so pages tenants stopped writing
   * leave the private set.
   */
  sweep: 16,
} as const;

/** Bits of RESET_STAT.outcome. */
export const NativeResetOutcome = {
  /** The trim flag was honoured: everything was discarded. */
  trimmed: 1,
  /** Private pages exceeded maxResidentBytes: discarded instead of restored. */
  overCap: 2,
  /** track-writes found the range unregistered (new mapping, fork): discarded and registered again. */
  rearmed: 4,
  /** Registering for write tracking failed: the range was discarded and is not tracked. */
  trackingFailed: 8,
} as const;

/** Index of each number the reset calls write into their `stats` Float64Array. */
export const RESET_STAT = {
  bytesCopied: 0,
  bytesDiscarded: 1,
  pagesScanned: 2,
  /**
   * Pages the reset found: private pages (restore-dirty, or madvise and
   * keep-resident with the count flag), or under track-writes the pages
   * written since the last reset. memory-reset.ts names them by mode
   * (privatePagesFound, writtenPages).
   */
  foundPages: 3,
  regions: 4,
  /** Private pages resident after the reset; -1 when not known. */
  privatePagesKept: 5,
  outcome: 6,
  rangePages: 7,
  length: 8,
} as const;

/** One kernel facility a reset mode needs, probed once per process. */
export interface NativeFeature {
  readonly available: boolean;
  /** Why not, for people (errno name, missing feature, "disabled by COWPOOL_DISABLE"); null when available. */
  readonly reason: string | null;
}

export interface NativeResetSupport {
  /** pread(/proc/self/pagemap): restore-dirty's fallback on any kernel. */
  readonly pagemapRead: NativeFeature;
  /** ioctl(PAGEMAP_SCAN), Linux 6.7+. */
  readonly pagemapScan: NativeFeature;
  /** userfaultfd(UFFD_USER_MODE_ONLY) with WP_ASYNC, WP_UNPOPULATED, WP_HUGETLBFS_SHMEM. */
  readonly userfaultfd: NativeFeature;
  /** COWPOOL_DISABLE as the addon read it. */
  readonly disabled: string;
}

/** What the reset cost model needs to know about this machine, measured once. */
export interface NativeResetCalibration {
  /** Cost of one copy-on-write fault on a private file mapping. */
  readonly cowFaultNs: number;
  /** Cost of one zero-fill fault on private anonymous memory. */
  readonly zeroFaultNs: number;
  /** Cost of one async write-protect fault; null without userfaultfd. */
  readonly wpFaultNs: number | null;
  /** Cost of copying one page back. */
  readonly copyPageNs: number;
}

export interface NativeAddon {
  /** `byteLength`: the file size, a page multiple at least the data's (default: the data rounded up to a page). */
  Image: new (bytes: Uint8Array, byteLength?: number) => NativeImage;
  RawSlot: new (maxBytes: number, guardBytes: number) => NativeRawSlot;
  mapImage(buffer: ArrayBuffer, image: NativeImage | null, previousImageLength: number): void;
  /** Returns the bytes restored by copying; fills `stats` (RESET_STAT layout) when given. */
  resetMemory(
    buffer: ArrayBuffer,
    image: NativeImage | null,
    mode: number,
    keepResidentBytes: number,
    maxResidentBytes?: number,
    flags?: number,
    stats?: Float64Array,
    /** Reset only `[0, rangeBytes)` (a memory with a virtual size: its initial range). Default: the whole buffer. */
    rangeBytes?: number,
  ): number;
  /** Makes `[fromBytes, toBytes)` of a memory PROT_NONE (`accessible` false) or read-write again. */
  protectMemory(buffer: ArrayBuffer, fromBytes: number, toBytes: number, accessible: boolean): void;
  /** Zeroes the private pages of `[fromBytes, byteLength)` by `mode` (never track-writes), then makes it PROT_NONE. Returns bytes zeroed by copying. */
  releaseTail(
    buffer: ArrayBuffer,
    fromBytes: number,
    mode: number,
    keepResidentBytes: number,
    maxResidentBytes?: number,
    flags?: number,
    stats?: Float64Array,
  ): number;
  /** An ArrayBuffer over the memory's first `lengthBytes` that keeps the Memory alive. */
  aliasMemory(memory: WebAssembly.Memory, lengthBytes: number): ArrayBuffer;
  /** Detaches an alias; false when it was already detached (moved away by someone else). */
  detachAlias(buffer: ArrayBuffer): boolean;
  /** Bytes of the buffer held in private pages (what a reset has to deal with). */
  residentPrivateBytes(buffer: ArrayBuffer): number;
  memoryAddress(buffer: ArrayBuffer): bigint;
  resetSupport(): NativeResetSupport;
  /** Measures (once per process, on this thread if no thread did yet) or returns the measurement. */
  calibrateReset(): NativeResetCalibration;
  /** The same, measured on a thread-pool thread; every thread of the process shares one measurement. */
  calibrateResetAsync(): Promise<NativeResetCalibration>;
  /** The calling thread's minor page faults so far (getrusage RUSAGE_THREAD), null if unreadable. */
  threadMinorFaults(): number | null;
  /** Test hook: whether a run with these PAGE_IS_* categories counts as private. */
  isPrivateCategories(categories: number): boolean;
  /** Test hook: MADV_PAGEOUT on [offset, offset + length), then how many of its pages are swapped / present. */
  pageOut(buffer: ArrayBuffer, offset: number, length: number): { swapped: number; present: number };
  /** Test hook: the categories the pagemap-read source derives from one raw entry. */
  classifyPagemapEntry(entry: bigint): { categories: number; private: boolean };
  /** Each active reset mode's native id, by name, as this build numbers them (see src/slots/reset-mode-table.ts). */
  readonly resetModeIds: Readonly<Record<string, number>>;
  readonly scanConstants: {
    readonly PAGE_IS_WPALLOWED: number;
    readonly PAGE_IS_WRITTEN: number;
    readonly PAGE_IS_FILE: number;
    readonly PAGE_IS_PRESENT: number;
    readonly PAGE_IS_SWAPPED: number;
    readonly PAGE_IS_PFNZERO: number;
    readonly maybeZeroPage: number;
    readonly privateInverted: number;
    readonly privateMask: number;
    readonly privateAnyof: number;
    /** Runs per PAGEMAP_SCAN call; scans resume from walk_end past it. */
    readonly batch: number;
  };
  readonly pageSize: number;
  readonly support: { memfd: boolean; memfdError: string | null };
  /** Which addon this is: `test` carries the fault-injection hooks below. */
  readonly build: NativeBuild;
  /**
   * Test hook, test build only (absent from the production addon): fail the
   * next `count` calls of `syscall` after `skip` good ones. `injectFault(null)` disarms.
   */
  injectFault(syscall: string | null, skip?: number, count?: number, errno?: string): void;
  /** Test hook, test build only: injected failures fired so far. */
  injectedFaults(): number;
  liveImages(): number;
}

/**
 * The two addons built from native/: `production` (cowpool.node, what users
 * and the CLI load) and `test` (cowpool_test.node: adds injectFault,
 * injectedFaults and COWPOOL_FAULT_INJECT). COWPOOL_NATIVE_BUILD=test selects
 * the test build; the suite sets it for every test (vitest.config.ts).
 */
export type NativeBuild = 'production' | 'test';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function requestedBuild(): NativeBuild {
  const value = process.env.COWPOOL_NATIVE_BUILD;
  if (value === undefined || value === '' || value === 'production') return 'production';
  if (value === 'test') return 'test';
  throw new CowpoolError('INVALID_ARGUMENT', `COWPOOL_NATIVE_BUILD must be "production" or "test" (got ${JSON.stringify(value)}); unset it to load the production addon`);
}

/**
 * Where to look, first match that loads wins. COWPOOL_NATIVE_PATH, when set, is
 * the only place. Otherwise the production build prefers the binary shipped in
 * the package (prebuilds/<platform>-<arch>/), then one built from source; the
 * test build is only ever built from source.
 */
function candidatePaths(build: NativeBuild): string[] {
  const fromEnv = process.env.COWPOOL_NATIVE_PATH;
  if (fromEnv) return [fromEnv];
  const file = build === 'test' ? 'cowpool_test.node' : 'cowpool.node';
  return [
    ...(build === 'production' ? [join(root, 'prebuilds', `${process.platform}-${process.arch}`, file)] : []),
    join(root, 'build', 'Release', file),
    join(root, 'build', 'Debug', file),
  ];
}

function notBuilt(build: NativeBuild, looked: string[]): CowpoolError {
  const how =
    build === 'test'
      ? 'the test build is made by `npm test` (or `npx cmake-js build --target cowpool_test`)'
      : 'build it from source with `node scripts/install.mjs` in the package directory (needs cmake and a C++17 compiler; ' +
        '`npm install` runs it unless install scripts are disabled), or `npm run build` in a checkout';
  return new CowpoolError('NATIVE_UNAVAILABLE', `the cowpool ${build} addon is not built (looked in ${looked.join(', ')}); ${how}`);
}

let loaded: NativeAddon | undefined;

/**
 * The addon, loaded once per thread. Throws UNSUPPORTED_PLATFORM off Linux or
 * without memfd, NATIVE_UNAVAILABLE when it was not built or does not load.
 */
export function addon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') {
    throw new CowpoolError(
      'UNSUPPORTED_PLATFORM',
      `cowpool needs Linux (memfd, MAP_PRIVATE file mappings, madvise); this is ${process.platform}. ` +
        'Use plain WebAssembly.instantiate on this platform.',
    );
  }
  const build = requestedBuild();
  const candidates = candidatePaths(build);
  const present = candidates.filter((p) => existsSync(p));
  if (present.length === 0) throw notBuilt(build, candidates);
  let mod: NativeAddon | undefined;
  const failures: string[] = [];
  let lastCause: unknown;
  // A shipped binary that does not load here (an older C library, say) is
  // skipped for one the install script built from source.
  for (const path of present) {
    try {
      mod = createRequire(import.meta.url)(path) as NativeAddon;
      break;
    } catch (cause) {
      failures.push(`${path}: ${(cause as Error).message}`);
      lastCause = cause;
    }
  }
  if (mod === undefined) {
    throw new CowpoolError(
      'NATIVE_UNAVAILABLE',
      `the cowpool addon failed to load (${failures.join('; ')}); rebuild it with \`npm run build\``,
      { cause: lastCause },
    );
  }
  if (build === 'test' && typeof mod.injectFault !== 'function') {
    throw new CowpoolError('NATIVE_UNAVAILABLE', `COWPOOL_NATIVE_BUILD=test, but the addon loaded is the ${mod.build ?? 'production'} build (no test hooks); rebuild it with \`npm test\``);
  }
  if (!mod.support.memfd) {
    throw new CowpoolError(
      'UNSUPPORTED_PLATFORM',
      `memfd_create is unavailable (${mod.support.memfdError ?? 'unknown error'}): cowpool needs Linux 3.17 or later without a seccomp filter blocking memfd_create`,
      { errno: mod.support.memfdError ?? undefined, syscall: 'memfd_create' },
    );
  }
  loaded = mod;
  return mod;
}

/** Whether the loaded addon is the test build (injectFault and friends exist). */
export function hasTestHooks(): boolean {
  return typeof addon().injectFault === 'function';
}

/** Runs a native call and turns what it throws into a CowpoolError. */
export function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}
