import { describe, expect, it } from 'vitest';
import { IndexAllocator } from '../src/policy/index-allocator.js';

/** A small seeded uniform generator, so a failure reproduces exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_SLOTS = 100;
const KEYS = Array.from({ length: 10 }, (_, i) => `image-${i}`);
const OPERATIONS = 100_000;

/** How a workload picks a slot for a key, and learns that a slot was released holding a key. */
interface SlotChooser {
  take(key: string): { slot: number; claimsAffinity: boolean };
  give(slot: number, key: string): void;
}

interface Outcome {
  allocations: number;
  /** Allocations that got a slot whose previous tenant had the same key. */
  hits: number;
  /** Allocations the chooser itself labelled affine. */
  claimed: number;
}

/**
 * The same random workload for any chooser: about half the pool leased, keys
 * drawn uniformly, a random lease released. A hit is a slot whose previous
 * tenant had the key now requested, judged from the workload's own records.
 */
function runWorkload(chooser: SlotChooser): Outcome {
  const random = mulberry32(0x5eed_2024);
  const lastKey: (string | null)[] = new Array(MAX_SLOTS).fill(null);
  const leased: { slot: number; key: string }[] = [];
  const outcome: Outcome = { allocations: 0, hits: 0, claimed: 0 };
  for (let op = 0; op < OPERATIONS; op++) {
    const allocate = leased.length === 0 || (leased.length < MAX_SLOTS && random() < (leased.length < 50 ? 0.6 : 0.4));
    if (allocate) {
      const key = KEYS[Math.floor(random() * KEYS.length)] ?? 'image-0';
      const { slot, claimsAffinity } = chooser.take(key);
      outcome.allocations++;
      if (lastKey[slot] === key) outcome.hits++;
      if (claimsAffinity) outcome.claimed++;
      leased.push({ slot, key });
    } else {
      const index = Math.floor(random() * leased.length);
      const lease = leased[index];
      if (lease === undefined) throw new Error('workload lost a lease');
      leased[index] = leased[leased.length - 1] ?? lease;
      leased.pop();
      chooser.give(lease.slot, lease.key);
      lastKey[lease.slot] = lease.key;
    }
  }
  return outcome;
}

/** The chance baseline: any idle slot, uniformly. */
function randomChooser(): SlotChooser {
  const pick = mulberry32(7);
  const idle = Array.from({ length: MAX_SLOTS }, (_, i) => i);
  return {
    take() {
      const i = Math.floor(pick() * idle.length);
      const slot = idle[i] ?? -1;
      idle[i] = idle[idle.length - 1] ?? slot;
      idle.pop();
      return { slot, claimsAffinity: false };
    },
    give(slot) {
      idle.push(slot);
    },
  };
}

function allocatorChooser(): SlotChooser {
  const allocator = new IndexAllocator({ maxSlots: MAX_SLOTS, maxUnusedWarmSlots: 16, maxSlotsPerKey: MAX_SLOTS });
  return {
    take(key) {
      const got = allocator.alloc(key);
      if (got === null) throw new Error(`allocator exhausted with ${allocator.usedCount} slots in use`);
      return { slot: got.slot, claimsAffinity: got.kind === 'affine' };
    },
    give(slot, key) {
      allocator.free(slot, key);
    },
  };
}

describe('slot affinity over 100k random operations', () => {
  it('reuses a slot for the key it last served far more often than choosing an idle slot at random', () => {
    const chance = runWorkload(randomChooser());
    const affine = runWorkload(allocatorChooser());
    // Same workload, so the same number of allocations.
    expect(affine.allocations).toBe(chance.allocations);
    expect(affine.allocations).toBeGreaterThan(OPERATIONS / 3);
    const chanceRate = chance.hits / chance.allocations;
    const hitRate = affine.hits / affine.allocations;
    // With ten keys spread over the idle slots, a random pick matches about one time in ten.
    expect(chanceRate).toBeGreaterThan(0.05);
    expect(chanceRate).toBeLessThan(0.2);
    expect(hitRate).toBeGreaterThan(0.8);
    expect(hitRate).toBeGreaterThan(4 * chanceRate);
    // The allocator's own 'affine' label is exactly the hits the workload observed.
    expect(affine.claimed).toBe(affine.hits);
  });
});
