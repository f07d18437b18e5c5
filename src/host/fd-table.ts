/**
 * A run's file descriptors: stdio, the preopened directories, and what the
 * guest opened through them.
 *
 *   0 stdin · 1 stdout · 2 stderr · 3.. preopens in the order given · then opened files/directories
 *
 * Invariant: every `file` descriptor holds an OpenedFile that is open; it is
 *            closed exactly once (fd_close or closeAll at the end of the run).
 * Invariant: a `directory` descriptor's components name directories inside
 *            its preopen (checked by the resolver when it was opened).
 * Invariant: at most MAX_DESCRIPTORS entries exist.
 */
import type { CappedOutput } from './capped-output.js';
import type { DirectoryEntry, OpenedFile, PreopenTree } from './preopen-tree.js';

/** Descriptors open at once in one run, stdio and preopens included. */
export const MAX_DESCRIPTORS = 1024;

export interface Preopen {
  /** The path the guest sees (`/sandbox`). */
  readonly guestPath: string;
  readonly tree: PreopenTree<unknown>;
}

export type Descriptor =
  | { readonly kind: 'stdin' }
  | { readonly kind: 'output'; readonly sink: CappedOutput }
  | {
    readonly kind: 'directory';
    readonly preopen: Preopen;
    readonly components: readonly string[];
    readonly rights: bigint;
    readonly inheriting: bigint;
    /** Set on preopened descriptors only: what fd_prestat_* report. */
    readonly prestatName: string | null;
    /** The entries fd_readdir walks, taken when a listing starts (cookie 0). */
    listing: readonly DirectoryEntry<unknown>[] | null;
  }
  | {
    readonly kind: 'file';
    readonly preopen: Preopen;
    readonly node: unknown;
    readonly file: OpenedFile;
    readonly rights: bigint;
    position: number;
  };

export class FdTable {
  readonly #entries = new Map<number, Descriptor>();

  get(fd: number): Descriptor | undefined {
    return this.#entries.get(fd >>> 0);
  }

  /** Places `descriptor` at `fd` (stdio and preopens, at the start of a run). */
  set(fd: number, descriptor: Descriptor): void {
    this.#entries.set(fd, descriptor);
  }

  /** The lowest free number ≥ 3 for `descriptor`, or null when MAX_DESCRIPTORS are open. */
  add(descriptor: Descriptor): number | null {
    if (this.#entries.size >= MAX_DESCRIPTORS) return null;
    let fd = 3;
    while (this.#entries.has(fd)) fd++;
    this.#entries.set(fd, descriptor);
    return fd;
  }

  /** Removes `fd`, closing what it holds; false when it is not open. */
  close(fd: number): boolean {
    const key = fd >>> 0;
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    if (entry.kind === 'file') entry.file.close();
    return true;
  }

  closeAll(): void {
    for (const fd of [...this.#entries.keys()]) this.close(fd);
  }
}
