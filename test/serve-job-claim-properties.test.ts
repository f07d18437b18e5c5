import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLAIM_STEPS, CLAIMED, DONE, FREE, QUEUED, step, type ClaimAction } from '../src/serve/job-claim.js';
import { JobRing } from '../src/serve/job-ring.js';

const ACTIONS = Object.keys(CLAIM_STEPS) as ClaimAction[];
const STATES = [FREE, QUEUED, CLAIMED, DONE];

describe('the claim protocol of a job slot', () => {
  it('an action moves a slot exactly when it is in the action\'s `from` state, and only to its `to` state', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATES), fc.array(fc.constantFrom(...ACTIONS), { maxLength: 40 }), (start, actions) => {
        const words = new Int32Array(new SharedArrayBuffer(4));
        words[0] = start;
        for (const action of actions) {
          const before = words[0];
          const took = step(words, 0, action);
          expect(took).toBe(before === CLAIM_STEPS[action].from);
          expect(words[0]).toBe(took ? CLAIM_STEPS[action].to : before);
        }
      }),
    );
  });

  it('a QUEUED job is either claimed or reclaimed, never both, whichever comes first', () => {
    fc.assert(
      fc.property(fc.boolean(), (workerFirst) => {
        const words = new Int32Array(new SharedArrayBuffer(4));
        expect(step(words, 0, 'offer')).toBe(true);
        const [first, second]: ClaimAction[] = workerFirst ? ['claim', 'reclaim'] : ['reclaim', 'claim'];
        expect(step(words, 0, first)).toBe(true);
        expect(step(words, 0, second)).toBe(false);
      }),
    );
  });
});

/**
 * The ring, driven on one thread by random interleavings of the dispatcher's
 * and the worker's steps. The dispatcher keeps its own book of what it
 * offered where, as RequestWorkers does.
 */
type Op =
  | { readonly kind: 'offer'; readonly payload: number }
  | { readonly kind: 'claim' }
  | { readonly kind: 'complete' }
  | { readonly kind: 'reclaim'; readonly pick: number }
  | { readonly kind: 'collect' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('offer' as const), payload: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ kind: 'claim' as const }),
  fc.constant({ kind: 'complete' as const }),
  fc.record({ kind: fc.constant('reclaim' as const), pick: fc.nat() }),
  fc.constant({ kind: 'collect' as const }),
);

describe('JobRing under random interleavings of dispatcher and worker', () => {
  it('every offered job ends once (collected with its own response, or reclaimed), the worker never runs a reclaimed job, and claims in offer order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 200 }), (slots, ops) => {
        const ring = JobRing.create({ slots, requestBytes: 16, responseBytes: 16 });
        // The dispatcher's book: seq → { slot, payload } for jobs in the ring.
        const offered = new Map<number, { slot: number; payload: number }>();
        const ended = new Map<number, 'collected' | 'reclaimed'>();
        const ran = new Set<number>();
        let seq = 0;
        // The worker's job in hand: slot, and what it read.
        let running: { slot: number; seq: number; payload: number } | null = null;
        for (const o of ops) {
          switch (o.kind) {
            case 'offer': {
              const slot = ring.freeSlot();
              if (slot < 0) {
                expect(offered.size).toBe(slots);
                break;
              }
              seq += 1;
              ring.requestArea(slot).set([o.payload, seq & 0xff]);
              ring.offer(slot, seq, 2);
              offered.set(seq, { slot, payload: o.payload });
              break;
            }
            case 'claim': {
              if (running !== null) break;
              const slot = ring.claimNext();
              // What is queued, by the dispatcher's book: jobs not yet run.
              const queued = [...offered.keys()].filter((s) => !ran.has(s));
              if (slot < 0) {
                expect(queued).toEqual([]);
                break;
              }
              const [payload, low] = ring.request(slot);
              const claimed = [...offered].find(([, v]) => v.slot === slot);
              expect(claimed).toBeDefined();
              const [claimedSeq, entry] = claimed as [number, { slot: number; payload: number }];
              // The bytes are the ones offered for that job, and it is the oldest queued.
              expect([payload, low]).toEqual([entry.payload, claimedSeq & 0xff]);
              expect(claimedSeq).toBe(Math.min(...queued));
              expect(ended.has(claimedSeq)).toBe(false);
              ran.add(claimedSeq);
              running = { slot, seq: claimedSeq, payload: payload as number };
              break;
            }
            case 'complete': {
              if (running === null) break;
              // The response is computed from the request the worker read.
              ring.responseArea(running.slot).set([running.payload ^ 0xff]);
              ring.complete(running.slot, 1);
              running = null;
              break;
            }
            case 'reclaim': {
              const inRing = [...offered.keys()];
              if (inRing.length === 0) break;
              const target = inRing[o.pick % inRing.length] as number;
              const entry = offered.get(target) as { slot: number; payload: number };
              const took = ring.reclaim(entry.slot);
              // A reclaim wins exactly when the worker has not claimed the job.
              expect(took).toBe(!ran.has(target));
              if (took) {
                offered.delete(target);
                ended.set(target, 'reclaimed');
              }
              break;
            }
            case 'collect': {
              for (const [s, entry] of offered) {
                if (!ring.isDone(entry.slot)) continue;
                expect([...ring.response(entry.slot, s)]).toEqual([entry.payload ^ 0xff]);
                ring.collect(entry.slot);
                offered.delete(s);
                expect(ended.has(s)).toBe(false);
                ended.set(s, 'collected');
              }
              break;
            }
          }
        }
        for (const [s, how] of ended) expect(how === 'collected').toBe(ran.has(s));
      }),
      { numRuns: 300 },
    );
  });

  it('a response is never handed to a job other than the one that computed it', () => {
    const ring = JobRing.create({ slots: 1, requestBytes: 16, responseBytes: 16 });
    ring.offer(0, 7, 0);
    expect(ring.claimNext()).toBe(0);
    ring.complete(0, 0);
    expect(() => ring.response(0, 8)).toThrow(/job 7, not of job 8/);
  });
});
