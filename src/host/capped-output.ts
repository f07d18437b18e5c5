/**
 * One output stream of a run (stdout or stderr): bytes collected up to a cap.
 * What the guest writes past the cap is accepted and dropped (the guest sees
 * a full write, so it never loops retrying) and counted, so the caller can
 * report that the output was cut.
 *
 *   |<---- kept (≤ cap) ---->|<---- dropped (counted) ---->|
 *
 * Invariant: keptBytes ≤ cap; droppedBytes > 0 iff a write went past the cap.
 */
export class CappedOutput {
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(readonly cap: number) {}

  /** Keeps what fits of `bytes` (copied: it is a view of guest memory). */
  write(bytes: Uint8Array): void {
    const room = this.cap - this.#kept;
    const keep = Math.min(room, bytes.length);
    if (keep > 0) {
      this.#chunks.push(bytes.slice(0, keep));
      this.#kept += keep;
    }
    this.#dropped += bytes.length - keep;
  }

  get keptBytes(): number {
    return this.#kept;
  }

  get droppedBytes(): number {
    return this.#dropped;
  }

  get truncated(): boolean {
    return this.#dropped > 0;
  }

  /** Everything kept, in one array. */
  bytes(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0] as Uint8Array;
    const out = new Uint8Array(this.#kept);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
