/**
 * The baseline LazyFuncTable is measured against: every entry is
 * materialised when the table is built and again on every reset, as a plain
 * instantiation does.
 *
 *   index:    0    1    2   ...   size-1
 *   entries:  f7   f2   null      f9       (all current, always)
 */
import { CowpoolError } from '../errors.js';
import { TABLE_SIZE_LIMIT, validateTable, type ElementInit, type FuncTable } from './element-segments.js';

function outOfBounds(i: number, size: number): CowpoolError {
  return new CowpoolError('INVALID_ARGUMENT', `table index ${i} is out of bounds (size ${size}) — the access traps`);
}

export class EagerFuncTable<F> implements FuncTable<F> {
  /** Invariant: the module's segments, applied in order by every reset. */
  readonly #segments: readonly ElementInit[];
  /** Invariant: called once per non-null entry by the constructor and by every reset. */
  readonly #materialize: (funcIndex: number) => F;
  /** Invariant: the size after construction and after every reset. */
  readonly #initialSize: number;
  /** Invariant: null, or an integer >= initialSize that the size never passes. */
  readonly #maximum: number | null;
  /** Invariant: entries.length is the table's size; every entry is current. */
  #entries: (F | null)[] = [];

  constructor(size: number, segments: readonly ElementInit[], materialize: (funcIndex: number) => F, maximum: number | null = null) {
    validateTable(size, segments, maximum);
    this.#segments = segments;
    this.#materialize = materialize;
    this.#initialSize = size;
    this.#maximum = maximum;
    this.reset();
  }

  get size(): number {
    return this.#entries.length;
  }

  get materializedCount(): number {
    return this.#entries.length;
  }

  get(i: number): F | null {
    if (!(i >>> 0 === i && i < this.#entries.length)) throw outOfBounds(i, this.#entries.length);
    return this.#entries[i] ?? null;
  }

  set(i: number, value: F | null): void {
    if (!(i >>> 0 === i && i < this.#entries.length)) throw outOfBounds(i, this.#entries.length);
    this.#entries[i] = value;
  }

  grow(delta: number, init: F | null = null): number {
    if (!Number.isSafeInteger(delta) || delta < 0) {
      throw new CowpoolError('INVALID_ARGUMENT', `table grow by ${delta} — pass a whole number of entries, 0 or more`);
    }
    const old = this.#entries.length;
    if (old + delta > (this.#maximum ?? TABLE_SIZE_LIMIT)) return -1;
    for (let i = 0; i < delta; i++) this.#entries.push(init);
    return old;
  }

  reset(): void {
    // Resolve overlaps first (later segments win), then materialise each entry once.
    const funcIndices = new Array<number | null>(this.#initialSize).fill(null);
    for (const segment of this.#segments) {
      segment.funcIndices.forEach((funcIndex, k) => {
        funcIndices[segment.offset + k] = funcIndex;
      });
    }
    this.#entries = funcIndices.map((funcIndex) => (funcIndex === null ? null : this.#materialize(funcIndex)));
  }
}
