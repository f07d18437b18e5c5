/**
 * The isolation fuzzer's re-entrant host actors: a tenant's run calls back
 * into the host, which releases the running lease, instantiates and keeps or
 * releases other tenants, calls back in, or closes the pool. Every tenant
 * must still equal a fresh V8 instance — and the oracle must notice when a
 * give-back inside the run goes through (checked by letting it, on purpose).
 */
import { describe, expect, it } from 'vitest';
import { RESET_MODES, STRATEGIES } from '../src/index.js';
import { generateCase } from '../src/fuzz/isolation-case.js';
import { generateReentrantCase } from '../src/fuzz/reentrant-case.js';
import { runReentrantCase } from '../src/fuzz/run-reentrant-case.js';

const SEEDS = Array.from({ length: 12 }, (_, i) => 7100 + i);

describe('re-entrant actors', () => {
  it('the generator is a pure function of the seed and exercises every actor', () => {
    const kinds = new Set<string>();
    const paths = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const a = generateReentrantCase(seed, 2);
      const b = generateReentrantCase(seed, 2);
      expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
      expect(JSON.stringify(a.tenants)).toBe(JSON.stringify(b.tenants));
      expect(WebAssembly.validate(a.bytes)).toBe(true);
      for (const t of a.tenants) {
        if (t.kind !== 'reentrant') continue;
        paths.add(t.path);
        for (const actor of t.actors) kinds.add(actor.kind);
      }
    }
    expect([...kinds].sort()).toEqual(['close', 'instantiate', 'nested', 'none', 'release']);
    expect([...paths].sort()).toEqual(['raw', 'table', 'view']);
  });

  for (const strategy of STRATEGIES) {
    const modes = strategy === 'cow' || strategy === 'reuse' ? RESET_MODES : (['madvise'] as const);
    it(`finds nothing on ${strategy} (${modes.join(', ')})`, async () => {
      let tenants = 0;
      for (const mode of modes) {
        for (const seed of SEEDS) {
          const main = generateCase(seed, { faults: false });
          const run = await runReentrantCase(generateReentrantCase(seed, main.modules.length), main, {
            name: `${strategy}/${mode}`, replayTarget: `${strategy}/${mode}`, strategy, mode,
          });
          expect(run.failure?.message ?? null).toBeNull();
          tenants += run.tenants;
        }
      }
      expect(tenants).toBeGreaterThan(SEEDS.length * modes.length);
    });
  }

  it('notices a give-back from inside the run: with the refusal bypassed, a later tenant differs from a fresh instance', async () => {
    const messages: string[] = [];
    for (let seed = 7000; seed < 7060 && messages.length === 0; seed++) {
      const main = generateCase(seed, { faults: false });
      const run = await runReentrantCase(generateReentrantCase(seed, main.modules.length), main, {
        name: 'cow/madvise', replayTarget: 'cow/madvise', strategy: 'cow', mode: 'madvise', unguardedRelease: true,
      });
      if (run.failure !== null) messages.push(run.failure.message);
    }
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/memory differs|differs/);
  });
});
