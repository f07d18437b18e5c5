/**
 * A funcref table for runtimes written in JS/TS that use cowpool as their
 * instance allocator. Entry i is materialised (its function object made) on
 * the first `get` after a reset; a bitmap remembers which entries hold their
 * current value. `reset` clears the bitmap, not the entries, so it costs
 * size/32 words whatever the table holds — a tenant that calls through 3 of
 * 20,000 entries pays for 3 materialisations, not 20,000.
 *
 *   index:        0    1    2    3   ...  1023 | 1024 ...  2047 | ...  size-1
 *   initialized:  1    0    0    1         0   |  0         0   |       0      (bit i of word i>>>5)
 *   entries:     [f7   ?    ?    null ...  ?  ]|  (no chunk yet) |       ?      (? = stale, never read)
 *                 ^ read since reset             ^ chunks of 1024 entries are made on first write
 *
 * Entries live in chunks made on demand so that building a large table
 * allocates nothing per entry: one big preallocated array costs more than
 * the whole lazy table is meant to save.
 */
import { CowpoolError } from '../errors.js';
import { ElementSegments, TABLE_SIZE_LIMIT, validateTable, type ElementInit, type FuncTable } from './element-segments.js';

export type { ElementInit, FuncTable } from './element-segments.js';

/** Entries per chunk: 8 KiB of pointers, small enough that a few reads allocate little. */
const CHUNK_SHIFT = 10;
const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;

function outOfBounds(i: number, size: number): CowpoolError {
  return new CowpoolError('INVALID_ARGUMENT', `table index ${i} is out of bounds (size ${size}) — the access traps`);
}

export class LazyFuncTable<F> implements FuncTable<F> {
  /** Invariant: the segments' initial contents, fixed for the table's life. */
  readonly #initial: ElementSegments;
  /** Invariant: called only by get, for an entry whose bit is clear and whose segment value is not null. */
  readonly #materialize: (funcIndex: number) => F;
  /** Invariant: the size after construction and after every reset. */
  readonly #initialSize: number;
  /** Invariant: null, or an integer >= initialSize that size never passes. */
  readonly #maximum: number | null;
  /** Invariant: initialSize <= size <= (maximum ?? TABLE_SIZE_LIMIT). */
  #size: number;
  /** Invariant: for i < size, bit i set ⇔ the stored entry i is its current value; bits at or past size are stale and never read. */
  #initialized: Uint32Array;
  /** Invariant: chunks[i >>> CHUNK_SHIFT][i & CHUNK_MASK] is entry i, meaningful only while bit i is set (which implies its chunk exists). */
  #chunks: ((F | null)[] | undefined)[];
  /** Invariant: the number of set bits below size. */
  #materializedCount = 0;

  constructor(size: number, segments: readonly ElementInit[], materialize: (funcIndex: number) => F, maximum: number | null = null) {
    validateTable(size, segments, maximum);
    this.#initial = new ElementSegments(segments);
    this.#materialize = materialize;
    this.#initialSize = size;
    this.#maximum = maximum;
    this.#size = size;
    this.#initialized = new Uint32Array((size + 31) >>> 5);
    this.#chunks = new Array<(F | null)[] | undefined>((size + CHUNK_MASK) >>> CHUNK_SHIFT);
  }

  get size(): number {
    return this.#size;
  }

  get materializedCount(): number {
    return this.#materializedCount;
  }

  get(i: number): F | null {
    if (!(i >>> 0 === i && i < this.#size)) throw outOfBounds(i, this.#size);
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    const bits = this.#initialized[word] ?? 0;
    if ((bits & bit) !== 0) return this.#chunks[i >>> CHUNK_SHIFT]?.[i & CHUNK_MASK] ?? null;
    const funcIndex = this.#initial.funcIndexAt(i);
    const value = funcIndex === null ? null : this.#materialize(funcIndex);
    this.#store(i, value);
    this.#initialized[word] = bits | bit;
    this.#materializedCount++;
    return value;
  }

  set(i: number, value: F | null): void {
    if (!(i >>> 0 === i && i < this.#size)) throw outOfBounds(i, this.#size);
    this.#store(i, value);
    this.#mark(i);
  }

  grow(delta: number, init: F | null = null): number {
    if (!Number.isSafeInteger(delta) || delta < 0) {
      throw new CowpoolError('INVALID_ARGUMENT', `table grow by ${delta} — pass a whole number of entries, 0 or more`);
    }
    const old = this.#size;
    if (old + delta > (this.#maximum ?? TABLE_SIZE_LIMIT)) return -1;
    const words = (old + delta + 31) >>> 5;
    if (words > this.#initialized.length) {
      // Double so a run of small grows copies the bitmap O(log n) times.
      const bigger = new Uint32Array(Math.max(words, this.#initialized.length * 2));
      bigger.set(this.#initialized);
      this.#initialized = bigger;
    }
    this.#size = old + delta;
    // Indices past the old size were not counted, whatever stale bits a
    // reset left there (see reset), so each new entry is set and counted.
    for (let i = old; i < old + delta; i++) {
      this.#store(i, init);
      this.#initialized[i >>> 5] = (this.#initialized[i >>> 5] ?? 0) | (1 << (i & 31));
    }
    this.#materializedCount += delta;
    return old;
  }

  reset(): void {
    // Only the words covering the initial size: entries past it are gone, and
    // grow sets (rather than tests) the bit of every entry it adds, so stale
    // bits there are never read.
    this.#initialized.fill(0, 0, (this.#initialSize + 31) >>> 5);
    this.#size = this.#initialSize;
    this.#materializedCount = 0;
  }

  #store(i: number, value: F | null): void {
    let chunk = this.#chunks[i >>> CHUNK_SHIFT];
    if (chunk === undefined) {
      chunk = new Array<F | null>(CHUNK_SIZE).fill(null);
      this.#chunks[i >>> CHUNK_SHIFT] = chunk;
    }
    chunk[i & CHUNK_MASK] = value;
  }

  #mark(i: number): void {
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    const bits = this.#initialized[word] ?? 0;
    if ((bits & bit) === 0) {
      this.#initialized[word] = bits | bit;
      this.#materializedCount++;
    }
  }
}
