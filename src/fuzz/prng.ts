/**
 * A seeded pseudo-random generator (sfc32 seeded through splitmix32), so a
 * fuzz case is a pure function of its 32-bit seed and a failure can be
 * replayed from the seed alone. Not for cryptography.
 *
 *   seed ──splitmix32──► a b c d (128-bit state) ──sfc32──► u32 stream
 *
 * Invariant: `#a..#d` are unsigned 32-bit integers; the stream depends only
 *            on the seed and on the calls made so far.
 */
import { CowpoolError } from '../errors.js';

/** Largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffff_ffff;

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
      throw new CowpoolError('INVALID_ARGUMENT', `Prng: seed must be an integer from 0 to ${MAX_SEED} (got ${String(seed)})`);
    }
    const mix = splitmix32(seed);
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    // sfc32 needs a few rounds before its output is well mixed.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The next unsigned 32-bit value. */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = (this.#b ^ (this.#b >>> 9)) >>> 0;
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max)) {
      throw new CowpoolError('INVALID_ARGUMENT', `Prng.int: need integers with min <= max (got ${min}, ${max})`);
    }
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new CowpoolError('INVALID_ARGUMENT', 'Prng.pick: the list is empty');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** One of `choices`, each with probability proportional to its weight. */
  weighted<T>(choices: readonly (readonly [weight: number, value: T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let x = this.float() * total;
    for (const [w, value] of choices) {
      if (x < w) return value;
      x -= w;
    }
    const last = choices[choices.length - 1];
    if (last === undefined) throw new CowpoolError('INVALID_ARGUMENT', 'Prng.weighted: no choices');
    return last[1];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v & 0xff;
      if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A new generator whose stream is independent of this one's later calls. */
  fork(): Prng {
    return new Prng(this.u32());
  }
}
