/**
 * The bench's "growth" section measures WASI runs that grow their memory
 * plain, pooled with growth 'retire' and pooled with growth 'virtual' in one
 * run, derives its ratios from those medians, and counts the memories each
 * pool retired per timed run. Nothing here asserts a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthSectionCells, measureGrowthSection, slowRounds } from '../src/bench/growth-section.js';

const CASES = ['cgi-grow 1 MiB', 'cgi-grow 4 MiB', 'sqlite snapshot, point query', 'sqlite 1,000 rows per run', 'sqlite no snapshot, point query'];
/** Cases whose every run grows the memory past its initial size. */
const GROWING = ['cgi-grow 1 MiB', 'cgi-grow 4 MiB', 'sqlite 1,000 rows per run', 'sqlite no snapshot, point query'];

describe('bench section growth', () => {
  it('measures every case plain, retire and virtual, with ratios and retirements from the same run', async () => {
    const section = await measureGrowthSection(2, 2);
    expect(section.status).toBe('measured');
    if (section.status !== 'measured') return;
    expect(section.rows.map((r) => r.case)).toEqual(CASES);
    for (const row of section.rows) {
      for (const us of [row.plainUs, row.retireUs, row.virtualUs]) {
        expect(us).toBeGreaterThan(0);
        expect(Number.isFinite(us)).toBe(true);
      }
      expect(row.virtualVsPlain).toBeCloseTo(row.plainUs / row.virtualUs, 10);
      expect(row.virtualVsRetire).toBeCloseTo(row.retireUs / row.virtualUs, 10);
      expect(row.virtualGrowth).toEqual({ mode: 'virtual', reason: null });
      // A virtual size keeps every slot; no timed run retired a memory.
      expect(row.retiredPerRun.virtual, row.case).toBe(0);
      // Per timed run: a whole number of memories over rounds × batch runs.
      const retired = row.retiredPerRun.retire * row.rounds * row.batch;
      expect(retired).toBeCloseTo(Math.round(retired), 10);
    }
    for (const name of GROWING) {
      // Growth 'retire' replaces the memory of every run that grew it.
      expect(section.rows.find((r) => r.case === name)?.retiredPerRun.retire, name).toBe(1);
    }
    const slow = section.rows.find((r) => r.case === 'sqlite no snapshot, point query');
    expect(slow).toMatchObject({ rounds: slowRounds(2), batch: 1 });
    expect(section.rows.find((r) => r.case === 'cgi-grow 4 MiB')).toMatchObject({ rounds: 2, batch: 2, snapshot: false });
    expect(section.rows.find((r) => r.case === 'sqlite snapshot, point query')?.snapshot).toBe(true);
    const cells = growthSectionCells(section);
    expect(cells).toHaveLength(CASES.length + 1);
    for (const row of cells) expect(row).toHaveLength(cells[0]!.length);
  });

  it('is skipped, naming the missing modules, where the repository files are absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cowpool-bench-growth-'));
    try {
      const section = await measureGrowthSection(1, 1, pathToFileURL(`${dir}/`));
      expect(section.status).toBe('skipped');
      if (section.status !== 'skipped') return;
      expect(section.reason).toContain('test/fixtures/wasi/cgi-grow.wasm');
      expect(section.reason).toContain('examples/sqlite-endpoint/handler.wasm');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
