/**
 * The bench's "wasi" section measures the WASI host plain and pooled and
 * node:wasi in one run, and reports ratios computed from those medians.
 */
import { describe, expect, it } from 'vitest';
import { measureWasiSection, wasiSectionCells } from '../src/bench/wasi-section.js';

describe('bench section wasi', () => {
  it('measures every module under all three subjects and derives its ratios from the same medians', async () => {
    const section = await measureWasiSection(2, 2);
    expect(section.status).toBe('measured');
    if (section.status !== 'measured') return;
    expect(section.rows.map((r) => r.module)).toEqual(['data-1mib', 'args', 'echo']);
    for (const row of section.rows) {
      expect(row.nodeWasiError).toBeUndefined();
      expect(row.plainUs).toBeGreaterThan(0);
      expect(row.pooledUs).toBeGreaterThan(0);
      expect(row.nodeWasiRuns).toBe(4);
      expect(row.pooledVsPlain).toBeCloseTo(row.plainUs / row.pooledUs, 10);
      expect(row.pooledVsNodeWasi).toBeCloseTo((row.nodeWasiUs as number) / row.pooledUs, 10);
    }
    expect(section.rows[0]!.moduleBytes).toBeGreaterThan(1 << 20);
    expect(wasiSectionCells(section)).toHaveLength(4);
  });
});
