/**
 * Escape actors for the raw-slot fuzz: a tenant hands its buffer to
 * JavaScript's own ways of copying or moving memory (transfer,
 * transferToFixedLength, structuredClone with and without a transfer list,
 * postMessage with a transfer list, transfer then postMessage) and keeps
 * whatever came out — a holder — for a few more tenants. The reference: every
 * holder keeps reading exactly what its tenant had written (plus its own
 * writes) whoever uses the slot afterwards, and the next tenant sees none of
 * the holder's writes. A moved buffer must get its slot quarantined at
 * release (counted once in stats().escapes.quarantined), never reset.
 *
 *   tenant t: actions ─► escapes (holders) ─► release ─► holders write
 *   tenant t+1: acquire check (image then zeros) ─► actions ─► every holder checked
 *
 * Actors whose API this Node lacks (transfer before Node 21) are skipped and
 * counted; a structured clone Node refuses (it refuses transfer lists of
 * external buffers from Node 22) leaves no holder.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Prng } from './prng.js';

export type RawEscapeKind =
  | 'transfer'
  | 'transferToFixedLength'
  | 'transferToShorter'
  | 'structuredClone'
  | 'structuredCloneTransfer'
  | 'postMessageTransfer'
  | 'transferThenPost'
  | 'keepView';

export const RAW_ESCAPE_KINDS: readonly RawEscapeKind[] = [
  'transfer',
  'transferToFixedLength',
  'transferToShorter',
  'structuredClone',
  'structuredCloneTransfer',
  'postMessageTransfer',
  'transferThenPost',
  'keepView',
];

export interface RawEscapeAction {
  kind: RawEscapeKind;
  /** After release the holder writes `value` at `offset` (modulo its length). */
  offset: number;
  value: number;
  /** Later tenants the holder is kept for before it is dropped. */
  keepFor: number;
}

/**
 * Escapes for each of `tenants` tenants. Drawn from their own generator
 * (seeded from the case's seed) so the rest of a case stays what it was.
 */
export function randomRawEscapes(seed: number, tenants: number): RawEscapeAction[][] {
  const prng = new Prng((seed ^ 0x5eed_e5ca) >>> 0);
  const out: RawEscapeAction[][] = [];
  for (let t = 0; t < tenants; t++) {
    const actions: RawEscapeAction[] = [];
    if (prng.chance(0.35)) {
      for (let n = prng.int(1, 2); n > 0; n--) {
        actions.push({ kind: prng.pick(RAW_ESCAPE_KINDS), offset: prng.int(0, 300_000), value: prng.int(1, 255), keepFor: prng.int(0, 4) });
      }
    }
    out.push(actions);
  }
  return out;
}

type Transferable = ArrayBuffer & { transfer?(): ArrayBuffer; transferToFixedLength?(length?: number): ArrayBuffer };

interface Holder {
  tenant: number;
  kind: RawEscapeKind;
  view: Uint8Array;
  /** What `view` must read. */
  expected: Uint8Array;
  /** A view kept over the lease's own buffer: must read detached after release. */
  mustDetach: boolean;
  action: RawEscapeAction;
  dropAfter: number;
}

/** `ArrayBuffer.prototype.detached` where it exists (Node 22+), else a length that dropped to 0. */
function isDetached(buffer: ArrayBuffer, length: number): boolean {
  const detached = (buffer as { detached?: boolean }).detached;
  return detached ?? (length > 0 && buffer.byteLength === 0);
}

function posted(buffer: ArrayBuffer, transfer: boolean): ArrayBuffer | null {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(buffer, transfer ? [buffer] : []);
    return (receiveMessageOnPort(port2)?.message ?? null) as ArrayBuffer | null;
  } finally {
    port1.close();
    port2.close();
  }
}

/** Runs a case's escapes and checks their holders; one per runRawCase. */
export class RawEscapeRun {
  readonly #holders: Holder[] = [];
  /** Actors run, and skipped for want of the API. */
  ran = 0;
  skipped = 0;
  /** Escapes that detached the lease's buffer (the slot must be quarantined). */
  moved = 0;

  /**
   * Runs `actions` on the lease's current buffer (holding `bytes`, the
   * tenant's content). Returns whether any of them detached a buffer of the
   * lease, and null or a failure message.
   */
  escape(tenant: number, actions: readonly RawEscapeAction[] | undefined, current: () => ArrayBuffer, bytes: Uint8Array): { detached: boolean; failure: string | null } {
    let detached = false;
    // Buffers moved out whole (transfer, transferToFixedLength of the same
    // length, a transfer list that moved) are all views of the slot's pages:
    // one holder's writes show in the others, so they share what they must read.
    let pages: Uint8Array | null = null;
    for (const action of actions ?? []) {
      const buffer = current() as Transferable;
      let out: ArrayBuffer | null;
      let mustDetach = false;
      let expectedLength = bytes.length;
      try {
        switch (action.kind) {
          case 'transfer':
            if (buffer.transfer === undefined) { this.skipped++; continue; }
            out = buffer.transfer();
            break;
          case 'transferToFixedLength':
            if (buffer.transferToFixedLength === undefined) { this.skipped++; continue; }
            out = buffer.transferToFixedLength();
            break;
          case 'transferToShorter':
            if (buffer.transferToFixedLength === undefined) { this.skipped++; continue; }
            expectedLength = Math.floor(bytes.length / 2);
            out = buffer.transferToFixedLength(expectedLength);
            break;
          case 'structuredClone':
            out = structuredClone(buffer);
            break;
          case 'structuredCloneTransfer':
            out = structuredClone(buffer, { transfer: [buffer] });
            break;
          case 'postMessageTransfer':
            out = posted(buffer, true);
            break;
          case 'transferThenPost': {
            if (buffer.transfer === undefined) { this.skipped++; continue; }
            const moved = buffer.transfer();
            out = posted(moved, true);
            break;
          }
          case 'keepView':
            out = buffer;
            mustDetach = true;
            break;
        }
      } catch (e) {
        // Node refuses to move an external buffer with a transfer list (22+).
        if (!(e instanceof Error && e.name === 'DataCloneError')) {
          return { detached, failure: `escape ${action.kind} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
        }
        out = null;
      }
      this.ran++;
      const moved = isDetached(buffer, bytes.length);
      if (moved) {
        detached = true;
        this.moved++;
      }
      if (out === null) continue;
      const view = new Uint8Array(out);
      if (view.length !== expectedLength) return { detached, failure: `escape ${action.kind} gave ${view.length} bytes, expected ${expectedLength}` };
      const aliases = moved && action.kind !== 'transferToShorter';
      const expected = aliases ? (pages ??= bytes.slice()) : bytes.slice(0, expectedLength);
      this.#holders.push({ tenant, kind: action.kind, view, expected, mustDetach, action, dropAfter: tenant + action.keepFor });
    }
    return { detached, failure: null };
  }

  /** After tenant `tenant` released: kept views must read detached, holders write. */
  afterRelease(tenant: number): string | null {
    for (const h of this.#holders) {
      if (h.mustDetach) {
        if (h.tenant === tenant && h.view.length !== 0) return `a view kept past release (${h.kind}) still has ${h.view.length} bytes; release must detach it`;
        continue;
      }
      if (h.view.length === 0) continue;
      const at = h.action.offset % h.view.length;
      h.view[at] = h.action.value;
      h.expected[at] = h.action.value;
    }
    return null;
  }

  /** Every holder reads exactly its tenant's bytes (and its own writes). */
  check(when: string): string | null {
    for (const h of this.#holders) {
      if (h.mustDetach) continue;
      if (h.view.length !== h.expected.length) return `${when}: a ${h.kind} holder from tenant ${h.tenant} has ${h.view.length} bytes, expected ${h.expected.length}`;
      if (Buffer.compare(h.view, h.expected) !== 0) {
        let at = 0;
        while (h.view[at] === h.expected[at]) at++;
        return `${when}: a ${h.kind} holder from tenant ${h.tenant} reads ${h.view[at]} at byte ${at}, expected ${h.expected[at]} (another tenant's data, or a reset under it)`;
      }
    }
    return null;
  }

  /** Tenant `tenant` is about to start: holders whose time is up are dropped (their slots may then be unmapped). */
  drop(tenant: number): void {
    for (let i = this.#holders.length - 1; i >= 0; i--) if ((this.#holders[i] as Holder).dropAfter < tenant) this.#holders.splice(i, 1);
  }
}
