/**
 * Which slot an instance gets: module-affine slot index allocation.
 *
 * A slot that last served image `a` still holds `a`'s pages after a reset, so
 * handing it to `a` again costs nothing more, while handing it to `b` means
 * remapping. This bookkeeping prefers, in order:
 *
 *   1. the most recently freed warm slot of the same key      (kind 'affine')
 *   2. a cold slot, while fewer than maxUnusedWarmSlots
 *      slots are warm                                         (kind 'cold')
 *   3. the least recently freed warm slot of any key          (kind 'evicted')
 *   4. a cold slot, if any remain                             (kind 'cold')
 *
 * Rule 2 lets warm slots of modules not used lately survive a while (up to
 * maxUnusedWarmSlots of them) instead of being evicted by the first newcomer.
 * Pure bookkeeping: no system calls, O(1) per operation (doubly linked lists
 * threaded through typed arrays, a stack, and two maps keyed by image).
 * `allocSlot` and `free` allocate nothing while a key goes back and forth
 * between used and warm; `alloc` adds one result object.
 *
 *   slot        0      1      2      3      4      5      6      7
 *   state    [used ][warm ][cold ][warm ][used ][cold ][warm ][cold ]
 *   key         a      a      -      b      c      -      a      -
 *
 *   warm list, least → most recently freed:   1 ⇄ 3 ⇄ 6     (evict from the head)
 *   per-key warm lists:   a: 1 ⇄ 6    b: 3                 (reuse from the tail)
 *   cold stack:  7 5 2 ← top      (never-used slots come off in index order)
 *   used per key:  a → 1, c → 1
 */
import { CowpoolError } from '../errors.js';

export interface AllocatorLimits {
  /** Number of slots, indices 0 .. maxSlots-1. */
  maxSlots: number;
  /** How many warm slots may sit idle before newcomers evict them instead of taking cold slots. */
  maxUnusedWarmSlots: number;
  /** How many slots one (non-null) key may have in use at once. */
  maxSlotsPerKey: number;
}

export type Allocation =
  /** A warm slot that last served the same key: its image is already in place. */
  | { slot: number; kind: 'affine'; previousKey: string }
  /** A slot holding no image: never used, freed with a null key, or retired. */
  | { slot: number; kind: 'cold'; previousKey: null }
  /** The least recently freed warm slot of another key. */
  | { slot: number; kind: 'evicted'; previousKey: string | null };

/** One slot as introspection sees it. */
export type SlotView =
  | { state: 'used'; key: string | null; retired: boolean }
  | { state: 'warm'; key: string }
  | { state: 'cold' };

/** Why `alloc(key)` would return null: every slot in use, or this key at maxSlotsPerKey. */
export type ExhaustedReason = 'all-slots-used' | 'key-limit';

const COLD = 0;
const WARM = 1;
const USED = 2;
const NONE = -1;

/** The two ends of a list threaded through `prev`/`next` arrays. */
interface ListEnds {
  head: number;
  tail: number;
}

/** One key's warm list and how many used slots were allocated for it. */
interface KeyEntry extends ListEnds {
  used: number;
}

function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CowpoolError('INVALID_ARGUMENT', `IndexAllocator: ${name} is ${value} — pass a whole number of at least ${min}`);
  }
}

export class IndexAllocator {
  /** Invariant: validated whole numbers, fixed for the allocator's life. */
  readonly limits: Readonly<AllocatorLimits>;
  /** Invariant: state[s] is COLD, WARM or USED; slot s is in exactly the structures its state names below. */
  readonly #state: Uint8Array;
  /** Invariant: for a USED slot, the key it was allocated for; for a WARM slot, the key whose image it holds (never null); for a COLD slot, null. */
  readonly #key: (string | null)[];
  /** Invariant: 1 only for a USED slot whose memory was thrown away (it becomes COLD when freed). */
  readonly #retired: Uint8Array;
  /** Invariant: for a WARM slot, the previous slot on the warm list (NONE at the head); NONE for other slots. */
  readonly #warmPrev: Int32Array;
  /** Invariant: for a WARM slot, the next slot on the warm list (NONE at the tail); NONE for other slots. */
  readonly #warmNext: Int32Array;
  /** Invariant: the warm list holds exactly the WARM slots, in the order they were freed (head = least recent). */
  readonly #warm: ListEnds = { head: NONE, tail: NONE };
  /** Invariant: warmCount is the length of the warm list. */
  #warmCount = 0;
  /** Invariant: for a WARM slot, the previous slot on its key's list (NONE at the head); NONE for other slots. */
  readonly #keyPrev: Int32Array;
  /** Invariant: for a WARM slot, the next slot on its key's list (NONE at the tail); NONE for other slots. */
  readonly #keyNext: Int32Array;
  /**
   * Invariant: byKey.get(k) lists the WARM slots holding k in the order they
   * were freed, and `used` is the number of USED slots allocated for k; a key
   * with neither has no entry. One entry serves both, so a slot going back
   * and forth between used and warm for the same key never adds or deletes
   * map entries (no allocation per acquire/release).
   */
  readonly #byKey = new Map<string, KeyEntry>();
  /** Invariant: cold[0 .. coldCount) holds exactly the COLD slots, each once; the next taken is cold[coldCount-1]. */
  readonly #cold: Int32Array;
  /** Invariant: the number of COLD slots. */
  #coldCount: number;
  /** Invariant: usedCount + warmCount + coldCount === maxSlots. */
  #usedCount = 0;
  /** Invariant: the kind of the last successful allocation; null before the first. */
  #lastKind: Allocation['kind'] | null = null;
  /** Invariant: the key its slot held before it (null for a cold slot); null before the first. */
  #lastPreviousKey: string | null = null;

  constructor(limits: AllocatorLimits) {
    assertCount('maxSlots', limits.maxSlots, 1);
    assertCount('maxUnusedWarmSlots', limits.maxUnusedWarmSlots, 0);
    assertCount('maxSlotsPerKey', limits.maxSlotsPerKey, 1);
    this.limits = Object.freeze({ ...limits });
    const n = limits.maxSlots;
    this.#state = new Uint8Array(n);
    this.#key = new Array<string | null>(n).fill(null);
    this.#retired = new Uint8Array(n);
    this.#warmPrev = new Int32Array(n).fill(NONE);
    this.#warmNext = new Int32Array(n).fill(NONE);
    this.#keyPrev = new Int32Array(n).fill(NONE);
    this.#keyNext = new Int32Array(n).fill(NONE);
    // Stacked in reverse so slot 0 is taken first: a fresh pool fills from the bottom.
    this.#cold = new Int32Array(n);
    for (let i = 0; i < n; i++) this.#cold[i] = n - 1 - i;
    this.#coldCount = n;
  }

  get usedCount(): number {
    return this.#usedCount;
  }

  get warmCount(): number {
    return this.#warmCount;
  }

  get coldCount(): number {
    return this.#coldCount;
  }

  /** Slots in use that were allocated for `key`. */
  usedCountOf(key: string): number {
    return this.#byKey.get(key)?.used ?? 0;
  }

  /** Warm slots holding `key`'s image, least recently freed first. O(length). */
  warmSlotsOf(key: string): number[] {
    const out: number[] = [];
    for (let s = this.#byKey.get(key)?.head ?? NONE; s !== NONE; s = this.#keyNext[s] ?? NONE) out.push(s);
    return out;
  }

  stateOf(slot: number): SlotView {
    this.#assertSlot(slot, 'stateOf');
    const state = this.#state[slot];
    if (state === USED) return { state: 'used', key: this.#key[slot] ?? null, retired: this.#retired[slot] === 1 };
    if (state === WARM) return { state: 'warm', key: this.#key[slot] ?? '' };
    return { state: 'cold' };
  }

  /** Why `alloc(key)` would fail right now, or null when it would succeed. */
  exhaustedReason(key: string | null): ExhaustedReason | null {
    if (this.#usedCount === this.limits.maxSlots) return 'all-slots-used';
    if (key !== null && this.usedCountOf(key) >= this.limits.maxSlotsPerKey) return 'key-limit';
    return null;
  }

  /**
   * Take a slot for `key` (an image id; null for a module without one).
   * Returns null when every slot is in use or `key` already has
   * maxSlotsPerKey slots; `exhaustedReason` says which.
   */
  alloc(key: string | null): Allocation | null {
    const slot = this.allocSlot(key);
    if (slot === NONE) return null;
    const kind = this.#lastKind;
    const previousKey = this.#lastPreviousKey;
    if (kind === 'affine' && previousKey !== null) return { slot, kind, previousKey };
    if (kind === 'evicted') return { slot, kind, previousKey };
    return { slot, kind: 'cold', previousKey: null };
  }

  /**
   * `alloc` without a result object, for the pool's hot path: the slot taken
   * for `key`, or -1 (see `exhaustedReason`). `lastKind` and
   * `lastPreviousKey` then describe the allocation as `alloc` would.
   */
  allocSlot(key: string | null): number {
    if (this.exhaustedReason(key) !== null) return NONE;
    const affine = key === null ? undefined : this.#byKey.get(key);
    if (affine !== undefined && affine.head !== NONE && key !== null) {
      const slot = affine.tail;
      this.#unlinkWarm(slot);
      this.#markUsed(slot, key);
      return this.#allocated(slot, 'affine', key);
    }
    if (this.#coldCount > 0 && this.#warmCount < this.limits.maxUnusedWarmSlots) {
      return this.#takeCold(key);
    }
    if (this.#warm.head !== NONE) {
      const slot = this.#warm.head;
      const previousKey = this.#key[slot] ?? null;
      this.#unlinkWarm(slot);
      this.#markUsed(slot, key);
      if (previousKey !== null) this.#dropIfEmpty(previousKey);
      return this.#allocated(slot, 'evicted', previousKey);
    }
    // Not exhausted and nothing warm: by the count invariant a cold slot remains.
    return this.#takeCold(key);
  }

  /** The kind of the last successful allocation (`alloc` or `allocSlot`); null before the first. */
  get lastKind(): Allocation['kind'] | null {
    return this.#lastKind;
  }

  /** The key the slot of the last successful allocation held before (null for a cold one). */
  get lastPreviousKey(): string | null {
    return this.#lastPreviousKey;
  }

  /**
   * Give back a used slot. It becomes warm for `key` (the image it now
   * holds), or cold when `key` is null or the slot was retired.
   */
  free(slot: number, key: string | null): void {
    this.#assertSlot(slot, 'free');
    if (this.#state[slot] !== USED) {
      throw new CowpoolError('SLOT_STATE', `IndexAllocator.free(${slot}): slot is ${this.stateOf(slot).state}, not in use — free each allocation once`);
    }
    const allocatedFor = this.#key[slot] ?? null;
    const entry = allocatedFor === null ? undefined : this.#byKey.get(allocatedFor);
    if (entry !== undefined) entry.used--;
    this.#usedCount--;
    const retired = this.#retired[slot] === 1;
    this.#retired[slot] = 0;
    if (key === null || retired) this.#pushCold(slot);
    else this.#linkWarm(slot, key);
    if (allocatedFor !== null) this.#dropIfEmpty(allocatedFor);
  }

  /**
   * The slot's memory was thrown away (it grew, or a reset failed): it no
   * longer holds any image. A used slot becomes cold when freed; a warm slot
   * becomes cold now; a cold slot stays cold.
   */
  retire(slot: number): void {
    this.#assertSlot(slot, 'retire');
    const state = this.#state[slot];
    if (state === USED) this.#retired[slot] = 1;
    else if (state === WARM) {
      const key = this.#key[slot] ?? '';
      this.#unlinkWarm(slot);
      this.#pushCold(slot);
      this.#dropIfEmpty(key);
    }
  }

  /**
   * Check every invariant above by walking all structures: O(maxSlots), for
   * tests and debugging only.
   * @throws CowpoolError SLOT_STATE naming the first broken invariant.
   */
  verify(): void {
    const fail = (what: string): never => {
      throw new CowpoolError('SLOT_STATE', `IndexAllocator invariant broken: ${what}`);
    };
    const n = this.limits.maxSlots;
    const seen = new Uint8Array(n);
    let previous = NONE;
    let warmWalked = 0;
    for (let s = this.#warm.head; s !== NONE; s = this.#warmNext[s] ?? NONE) {
      if (this.#state[s] !== WARM) fail(`slot ${s} is on the warm list but not warm`);
      if (this.#warmPrev[s] !== previous) fail(`warm list back link of slot ${s}`);
      if (seen[s] === 1 || ++warmWalked > n) fail('warm list has a cycle');
      seen[s] = 1;
      previous = s;
    }
    if (this.#warm.tail !== previous) fail('warm list tail');
    if (warmWalked !== this.#warmCount) fail(`warmCount ${this.#warmCount} but ${warmWalked} on the list`);
    let keyed = 0;
    for (const [key, ends] of this.#byKey) {
      let prev = NONE;
      for (let s = ends.head; s !== NONE; s = this.#keyNext[s] ?? NONE) {
        if (this.#state[s] !== WARM || this.#key[s] !== key) fail(`slot ${s} on ${key}'s list does not hold ${key}`);
        if (this.#keyPrev[s] !== prev) fail(`${key}'s list back link of slot ${s}`);
        if (++keyed > n) fail(`${key}'s list has a cycle`);
        prev = s;
      }
      if (ends.tail !== prev) fail(`${key}'s list ends`);
      if (prev === NONE && ends.used === 0) fail(`${key} has an entry with no warm or used slot`);
    }
    if (keyed !== this.#warmCount) fail('per-key warm lists do not cover the warm slots exactly');
    for (let i = 0; i < this.#coldCount; i++) {
      const s = this.#cold[i] ?? NONE;
      if (this.#state[s] !== COLD || seen[s] === 1) fail(`cold stack entry ${s}`);
      seen[s] = 1;
    }
    const used = new Map<string, number>();
    let usedCount = 0;
    for (let s = 0; s < n; s++) {
      const state = this.#state[s];
      if (state === USED) {
        usedCount++;
        const key = this.#key[s] ?? null;
        if (key !== null) used.set(key, (used.get(key) ?? 0) + 1);
      } else {
        if (seen[s] !== 1) fail(`slot ${s} is ${state === WARM ? 'warm' : 'cold'} but on no list`);
        if (this.#retired[s] !== 0) fail(`slot ${s} is retired but not in use`);
      }
      if (state === COLD && this.#key[s] !== null) fail(`cold slot ${s} has a key`);
      if (state !== WARM) {
        const links = [this.#warmPrev[s], this.#warmNext[s], this.#keyPrev[s], this.#keyNext[s]];
        if (links.some((l) => l !== NONE)) fail(`slot ${s} is not warm but still has list links`);
      }
    }
    if (usedCount !== this.#usedCount) fail(`usedCount ${this.#usedCount} but ${usedCount} used`);
    for (const [key, entry] of this.#byKey) if (entry.used !== (used.get(key) ?? 0)) fail(`used count of ${key}`);
    for (const key of used.keys()) if (!this.#byKey.has(key)) fail(`no entry for used key ${key}`);
  }

  #assertSlot(slot: number, method: string): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.limits.maxSlots) {
      throw new CowpoolError('INVALID_ARGUMENT', `IndexAllocator.${method}: slot ${slot} is outside 0..${this.limits.maxSlots - 1} — pass a slot this allocator handed out`);
    }
  }

  #markUsed(slot: number, key: string | null): void {
    this.#state[slot] = USED;
    this.#key[slot] = key;
    this.#usedCount++;
    if (key !== null) this.#entryOf(key).used++;
  }

  #entryOf(key: string): KeyEntry {
    let entry = this.#byKey.get(key);
    if (entry === undefined) {
      entry = { head: NONE, tail: NONE, used: 0 };
      this.#byKey.set(key, entry);
    }
    return entry;
  }

  /** Deletes `key`'s entry once it has neither warm nor used slots (no stale keys). */
  #dropIfEmpty(key: string): void {
    const entry = this.#byKey.get(key);
    if (entry !== undefined && entry.used === 0 && entry.head === NONE) this.#byKey.delete(key);
  }

  #takeCold(key: string | null): number {
    if (this.#coldCount === 0) throw new CowpoolError('SLOT_STATE', 'IndexAllocator: no cold slot although the pool is not full');
    const slot = this.#cold[--this.#coldCount] ?? NONE;
    this.#markUsed(slot, key);
    return this.#allocated(slot, 'cold', null);
  }

  #allocated(slot: number, kind: Allocation['kind'], previousKey: string | null): number {
    this.#lastKind = kind;
    this.#lastPreviousKey = previousKey;
    return slot;
  }

  #pushCold(slot: number): void {
    this.#state[slot] = COLD;
    this.#key[slot] = null;
    this.#cold[this.#coldCount++] = slot;
  }

  #linkWarm(slot: number, key: string): void {
    this.#state[slot] = WARM;
    this.#key[slot] = key;
    IndexAllocator.#append(this.#warm, slot, this.#warmPrev, this.#warmNext);
    this.#warmCount++;
    IndexAllocator.#append(this.#entryOf(key), slot, this.#keyPrev, this.#keyNext);
  }

  /** Take a warm slot off both lists; the caller gives it its next state. */
  #unlinkWarm(slot: number): void {
    if (this.#state[slot] !== WARM) throw new CowpoolError('SLOT_STATE', `IndexAllocator: slot ${slot} is not warm`);
    const key = this.#key[slot] ?? '';
    IndexAllocator.#remove(this.#warm, slot, this.#warmPrev, this.#warmNext);
    this.#warmCount--;
    const ends = this.#byKey.get(key);
    if (ends === undefined) throw new CowpoolError('SLOT_STATE', `IndexAllocator: warm slot ${slot} missing from ${key}'s list`);
    // The entry stays: the caller gives the slot its next state, then drops an empty entry (#dropIfEmpty).
    IndexAllocator.#remove(ends, slot, this.#keyPrev, this.#keyNext);
  }

  static #append(ends: ListEnds, slot: number, prev: Int32Array, next: Int32Array): void {
    prev[slot] = ends.tail;
    next[slot] = NONE;
    if (ends.tail === NONE) ends.head = slot;
    else next[ends.tail] = slot;
    ends.tail = slot;
  }

  static #remove(ends: ListEnds, slot: number, prev: Int32Array, next: Int32Array): void {
    const before = prev[slot] ?? NONE;
    const after = next[slot] ?? NONE;
    if (before === NONE) ends.head = after;
    else next[before] = after;
    if (after === NONE) ends.tail = before;
    else prev[after] = before;
    prev[slot] = NONE;
    next[slot] = NONE;
  }
}
