/**
 * `cowpool bench --snapshots`: every group is measured (Wizer, QuickJS and sql.js are
 * devDependencies here) with its baseline row first and a ratio per row;
 * the section checks that every tenant computes what the plain instance
 * computes before timing it, so a wrong snapshot fails the run.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { measureSnapshotSection } from '../src/bench/snapshot-section.js';

describe('bench: snapshots section', () => {
  it('measures the synthetic, Wizer, QuickJS and sql.js groups against their baselines', async () => {
    const section = await measureSnapshotSection({ samples: 4, rounds: 2, warmup: 1 });
    expect(section.groups.map((g) => g.status)).toEqual(['measured', 'measured', 'measured', 'measured']);
    for (const g of section.groups) {
      if (g.status !== 'measured') continue;
      expect(g.rows[0]!.subject).toBe(g.baseline);
      expect(g.rows[0]!.speedup).toBe(1);
      for (const r of g.rows) {
        expect(r.samples).toBeGreaterThanOrEqual(4);
        expect(Number.isFinite(r.speedup) && r.speedup > 0).toBe(true);
      }
    }
    const names = section.groups.flatMap((g) => (g.status === 'measured' ? g.rows.map((r) => r.subject) : []));
    expect(names).toEqual(expect.arrayContaining(['Wizer output, plain V8', 'Wizer output, cow', 'cowpool snapshot, cow', 'shared module, new runtime+context', 'snapshot tenant (cow, restore-dirty)', 'shared module, new database']));
  });

  it('is reachable as cowpool bench --snapshots --quick', async () => {
    let out = '';
    const code = await main(['bench', '--snapshots', '--quick'], { stdout: (t) => (out += t), stderr: () => {} });
    expect(code).toBe(0);
    expect(out).toMatch(/^Snapshots — /);
    expect(out).toMatch(/snapshot tenant \(cow\) +\S+ \S+ +\S+× (faster|slower)/);
  });
});
