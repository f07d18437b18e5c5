/**
 * One worker's job slots in a SharedArrayBuffer: the HTTP thread writes a
 * request's bytes into a free slot and offers it; the worker claims it, runs
 * it and writes the response into the same slot; the HTTP thread collects
 * it. No structured clone and no message per request: a request and its
 * response are bytes in shared memory, and ownership of a slot moves by the
 * claim protocol (job-claim.ts), one compare-and-swap per step.
 *
 *   Int32 words                                     bytes (after the words)
 *   ┌──────────┬───────┬─────┬─────────┐            ┌───────────┬────────────┐
 *   │ doorbell │ slots │ req │ res cap │  slot 0 …  │ request 0 │ response 0 │ …
 *   └──────────┴───────┴─────┴─────────┘            └───────────┴────────────┘
 *   slot s words: state · seq · requestLength · responseLength · doneSeq
 *
 * A response too large for its slot travels as a message instead (the
 * worker posts it before marking the slot DONE, with responseLength -1);
 * the slot still carries the claim and the completion.
 *
 * Invariant: `doorbell` only grows; the dispatcher adds 1 after every offer
 *            (a worker with nothing to claim waits on it).
 * Invariant: a slot's bytes and length words are written only by the side
 *            that owns the slot's state (job-claim.ts): the dispatcher in
 *            FREE, the worker in CLAIMED.
 * Invariant: `seq` of a QUEUED slot is unique and increasing in offer order;
 *            a worker claims the QUEUED slot with the lowest `seq` first.
 * Invariant: `doneSeq` of a DONE slot is the `seq` the worker claimed: the
 *            dispatcher checks it before reading a response, so a response
 *            can only ever reach the job it was computed for.
 */
import { CLAIMED, DONE, FREE, QUEUED, step } from './job-claim.js';

export interface JobRingSize {
  /** Jobs a worker may hold at once: one running, the rest queued behind it. */
  readonly slots: number;
  /** Bytes of one encoded request. */
  readonly requestBytes: number;
  /** Bytes of one encoded response. */
  readonly responseBytes: number;
}

const DOORBELL = 0;
const HEADER_WORDS = 4;
const SLOT_WORDS = 5;
const STATE = 0;
const SEQ = 1;
const REQUEST_LENGTH = 2;
const RESPONSE_LENGTH = 3;
const DONE_SEQ = 4;

export class JobRing {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #dataStart: number;

  /** A new ring in a new SharedArrayBuffer (its pages are touched only as slots are used). */
  static create(size: JobRingSize): JobRing {
    if (!Number.isInteger(size.slots) || size.slots < 1) throw new RangeError(`JobRing: slots must be a positive integer, got ${size.slots}`);
    for (const k of ['requestBytes', 'responseBytes'] as const) {
      if (!Number.isInteger(size[k]) || size[k] < 16 || size[k] > 0x7fff_fff0) throw new RangeError(`JobRing: ${k} must be an integer in [16, 2^31 - 16], got ${size[k]}`);
    }
    const words = HEADER_WORDS + size.slots * SLOT_WORDS;
    const buffer = new SharedArrayBuffer(align8(words * 4) + size.slots * (align8(size.requestBytes) + align8(size.responseBytes)));
    const w = new Int32Array(buffer);
    w[1] = size.slots;
    w[2] = size.requestBytes;
    w[3] = size.responseBytes;
    return new JobRing(buffer);
  }

  /** A view of a ring made by `create` (on this thread or another). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer);
    this.slots = this.#words[1] as number;
    this.requestBytes = this.#words[2] as number;
    this.responseBytes = this.#words[3] as number;
    this.#bytes = new Uint8Array(buffer);
    this.#dataStart = align8((HEADER_WORDS + this.slots * SLOT_WORDS) * 4);
  }

  // ── The dispatcher's side ───────────────────────────────────────────────

  /** A FREE slot, or -1. */
  freeSlot(): number {
    for (let s = 0; s < this.slots; s++) if (Atomics.load(this.#words, this.#word(s, STATE)) === FREE) return s;
    return -1;
  }

  /** Where the dispatcher writes a request into a FREE slot. */
  requestArea(slot: number): Uint8Array {
    this.#expect(slot, FREE);
    const at = this.#requestAt(slot);
    return this.#bytes.subarray(at, at + this.requestBytes);
  }

  /** Offers the request written into `slot` (`length` bytes) to the worker and wakes it. */
  offer(slot: number, seq: number, length: number): void {
    this.#expect(slot, FREE);
    if (length < 0 || length > this.requestBytes) throw new RangeError(`JobRing.offer: length ${length} outside [0, ${this.requestBytes}]`);
    Atomics.store(this.#words, this.#word(slot, SEQ), seq);
    Atomics.store(this.#words, this.#word(slot, REQUEST_LENGTH), length);
    if (!step(this.#words, this.#word(slot, STATE), 'offer')) throw new Error(`JobRing.offer: slot ${slot} was taken while being written`);
    Atomics.add(this.#words, DOORBELL, 1);
    Atomics.notify(this.#words, DOORBELL, 1);
  }

  /** Takes a QUEUED job back before the worker claims it; false when the worker already did. */
  reclaim(slot: number): boolean {
    return step(this.#words, this.#word(slot, STATE), 'reclaim');
  }

  isDone(slot: number): boolean {
    return Atomics.load(this.#words, this.#word(slot, STATE)) === DONE;
  }

  /**
   * The response of a DONE slot, for the job offered there as `seq` (a view:
   * read or copy it before `collect`); null when it was posted as a message.
   */
  response(slot: number, seq: number): Uint8Array | null {
    this.#expect(slot, DONE);
    const done = Atomics.load(this.#words, this.#word(slot, DONE_SEQ));
    if (done !== seq) throw new Error(`JobRing.response: slot ${slot} holds the response of job ${done}, not of job ${seq}`);
    const length = Atomics.load(this.#words, this.#word(slot, RESPONSE_LENGTH));
    if (length < 0) return null;
    const at = this.#responseAt(slot);
    return this.#bytes.subarray(at, at + length);
  }

  /** Frees a DONE slot once its response was read. */
  collect(slot: number): void {
    if (!step(this.#words, this.#word(slot, STATE), 'collect')) throw new Error(`JobRing.collect: slot ${slot} is not DONE`);
  }

  // ── The worker's side ───────────────────────────────────────────────────

  /** The doorbell's value: read it before looking for work, wait on it if there is none. */
  doorbell(): number {
    return Atomics.load(this.#words, DOORBELL);
  }

  /** Claims the QUEUED job offered first; returns its slot, or -1 when none is queued. */
  claimNext(): number {
    for (;;) {
      let best = -1;
      let bestSeq = 0;
      for (let s = 0; s < this.slots; s++) {
        if (Atomics.load(this.#words, this.#word(s, STATE)) !== QUEUED) continue;
        const seq = Atomics.load(this.#words, this.#word(s, SEQ));
        if (best < 0 || seq - bestSeq < 0) {
          best = s;
          bestSeq = seq;
        }
      }
      if (best < 0) return -1;
      // Lost to a reclaim (or the slot was re-offered): look again.
      if (step(this.#words, this.#word(best, STATE), 'claim')) {
        Atomics.store(this.#words, this.#word(best, DONE_SEQ), Atomics.load(this.#words, this.#word(best, SEQ)));
        return best;
      }
    }
  }

  /** Jobs offered and not yet claimed. */
  queued(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) if (Atomics.load(this.#words, this.#word(s, STATE)) === QUEUED) n += 1;
    return n;
  }

  /** The request bytes of a CLAIMED slot. */
  request(slot: number): Uint8Array {
    this.#expect(slot, CLAIMED);
    const at = this.#requestAt(slot);
    return this.#bytes.subarray(at, at + (Atomics.load(this.#words, this.#word(slot, REQUEST_LENGTH))));
  }

  /** Where the worker writes the response of a CLAIMED slot. */
  responseArea(slot: number): Uint8Array {
    this.#expect(slot, CLAIMED);
    const at = this.#responseAt(slot);
    return this.#bytes.subarray(at, at + this.responseBytes);
  }

  /** The `seq` of the job in a CLAIMED slot (to name a response posted as a message). */
  claimedSeq(slot: number): number {
    this.#expect(slot, CLAIMED);
    return Atomics.load(this.#words, this.#word(slot, DONE_SEQ));
  }

  /** Marks a CLAIMED slot DONE with a response of `length` bytes, or -1: posted as a message. */
  complete(slot: number, length: number): void {
    if (length < -1 || length > this.responseBytes) throw new RangeError(`JobRing.complete: length ${length} outside [-1, ${this.responseBytes}]`);
    Atomics.store(this.#words, this.#word(slot, RESPONSE_LENGTH), length);
    if (!step(this.#words, this.#word(slot, STATE), 'complete')) throw new Error(`JobRing.complete: slot ${slot} is not CLAIMED`);
  }

  /** Blocks this (worker) thread until the doorbell moves past `seen` or `timeoutMs` passes. */
  waitForOffer(seen: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    return Atomics.wait(this.#words, DOORBELL, seen, timeoutMs);
  }

  /** Resolves when the doorbell moves past `seen`, without blocking the thread's event loop. */
  async waitForOfferAsync(seen: number): Promise<void> {
    await waitAsync(this.#words, DOORBELL, seen);
  }

  #word(slot: number, field: number): number {
    if (!(slot >= 0 && slot < this.slots)) throw new RangeError(`JobRing: no slot ${slot}`);
    return HEADER_WORDS + slot * SLOT_WORDS + field;
  }

  #expect(slot: number, state: number): void {
    const now = Atomics.load(this.#words, this.#word(slot, STATE));
    if (now !== state) throw new Error(`JobRing: slot ${slot} is in state ${now}, expected ${state}`);
  }

  #requestAt(slot: number): number {
    return this.#dataStart + slot * (align8(this.requestBytes) + align8(this.responseBytes));
  }

  #responseAt(slot: number): number {
    return this.#requestAt(slot) + align8(this.requestBytes);
  }
}

/** ES2024's Atomics.waitAsync (in V8 since Node 16; not in this project's ES2022 lib types). */
type WaitAsync = (words: Int32Array, index: number, value: number) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/**
 * Waits without blocking the thread until `words[index]` is notified or no
 * longer `value`: null when it already differs, else a promise.
 */
export function waitAsync(words: Int32Array, index: number, value: number): Promise<unknown> | null {
  const r = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(words, index, value);
  return r.async ? r.value : null;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
