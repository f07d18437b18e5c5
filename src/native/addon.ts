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
  /** File size: the data length rounded up to the page size. */
  readonly byteLength: number;
  readonly dataLength: number;
  /** Hex content hash (the registry key). */
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
  configure(image: NativeImage | null, initialBytes: number): void;
  buffer(): ArrayBuffer;
  grow(newBytes: number): void;
  /** Returns the bytes restored by copying. */
  reset(mode: number, keepResidentBytes: number, initialBytes: number): number;
  destroy(): void;
}

/** Numeric reset modes understood by the addon. */
export const NativeResetMode = { madvise: 0, keepResident: 1 } as const;

export interface NativeAddon {
  Image: new (bytes: Uint8Array) => NativeImage;
  RawSlot: new (maxBytes: number, guardBytes: number) => NativeRawSlot;
  mapImage(buffer: ArrayBuffer, image: NativeImage | null, previousImageLength: number): void;
  /** Returns the bytes restored by copying. */
  resetMemory(buffer: ArrayBuffer, image: NativeImage | null, mode: number, keepResidentBytes: number): number;
  memoryAddress(buffer: ArrayBuffer): bigint;
  readonly pageSize: number;
  readonly support: { memfd: boolean; memfdError: string | null };
  /** Test hook: fail the next `count` calls of `syscall` after `skip` good ones. `injectFault(null)` disarms. */
  injectFault(syscall: string | null, skip?: number, count?: number, errno?: string): void;
  injectedFaults(): number;
  liveImages(): number;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function candidatePaths(): string[] {
  const fromEnv = process.env.COWPOOL_NATIVE_PATH;
  return [
    ...(fromEnv ? [fromEnv] : []),
    join(root, 'build', 'Release', 'cowpool.node'),
    join(root, 'build', 'Debug', 'cowpool.node'),
  ];
}

let loaded: NativeAddon | undefined;

/**
 * The addon, loaded once per thread. Throws UNSUPPORTED_PLATFORM off Linux or
 * without memfd, NATIVE_UNAVAILABLE when it was not built.
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
  const path = candidatePaths().find((p) => existsSync(p));
  if (path === undefined) {
    throw new CowpoolError(
      'NATIVE_UNAVAILABLE',
      `the cowpool addon is not built (looked in ${candidatePaths().join(', ')}); run \`npm install\` or \`npm run build\` in the package directory`,
    );
  }
  let mod: NativeAddon;
  try {
    mod = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (cause) {
    throw new CowpoolError('NATIVE_UNAVAILABLE', `the cowpool addon at ${path} failed to load: ${(cause as Error).message}; rebuild it with \`npm run build\``, { cause });
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

/** Runs a native call and turns what it throws into a CowpoolError. */
export function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}
