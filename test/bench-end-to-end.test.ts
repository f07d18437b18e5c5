/**
 * The bench harness end to end on a tiny configuration: every strategy ×
 * scenario gets a row, ratios come from the same run's fresh rows, and the
 * CLI entry writes the JSON, SVG and Markdown it promises. Nothing here
 * asserts a time: only structure and arithmetic.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESET_MODES } from '../src/config/pool-config-schema.js';
import { BENCH_SCENARIOS, type BenchConfigInput } from '../src/bench/bench-config-schema.js';
import { isMeasured, type BenchReport, type MeasuredRow } from '../src/bench/bench-results.js';
import { runBench } from '../src/bench/run-bench.js';
import { main } from '../src/cli/main.js';

const TINY: BenchConfigInput = {
  modules: ['data-1mib'],
  timeMs: 4,
  warmupMs: 0,
  minIterations: 3,
  rounds: 2,
  threads: { counts: [] },
  lazyTable: { rounds: 3, entries: 2_000 },
  growth: { rounds: 1 },
};

const SUBJECTS = ['fresh', 'copy', ...RESET_MODES.map((m) => `cow:${m}`), 'reuse', 'raw'];

const dir = mkdtempSync(join(tmpdir(), 'cowpool-bench-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every measured row's ratio must be fresh's median over its own, from the same report. */
function expectRatiosFromSameRun(report: BenchReport): void {
  const measured = report.rows.filter(isMeasured);
  expect(measured.length).toBeGreaterThan(0);
  for (const row of measured) {
    const fresh = measured.find((r) => r.module === row.module && r.scenario === row.scenario && r.subject === 'fresh') as MeasuredRow;
    expect(fresh, `${row.module}/${row.scenario} has a fresh row`).toBeDefined();
    expect(row.ratioToFresh).toBe(fresh.medianUs / row.medianUs);
  }
}

describe('runBench', () => {
  it('measures every strategy × scenario and computes ratios against the same run', async () => {
    const report = await runBench(TINY);
    // A JSON round trip, as a user of --json reads it.
    const json = JSON.parse(JSON.stringify(report)) as BenchReport;

    for (const scenario of BENCH_SCENARIOS) {
      for (const subject of SUBJECTS) {
        const rows = json.rows.filter((r) => r.module === 'data-1mib' && r.scenario === scenario && r.subject === subject);
        expect(rows, `${scenario} × ${subject}`).toHaveLength(1);
      }
    }
    expect(json.rows).toHaveLength(BENCH_SCENARIOS.length * SUBJECTS.length);

    // Only raw's call scenario is not applicable: it has no instance to call into.
    const notMeasured = json.rows.filter((r) => !isMeasured(r));
    for (const row of notMeasured) {
      if (row.status === 'unavailable') expect(row.strategy, `unavailable: ${row.subject} ${row.scenario}`).toBe('cow');
    }
    const rawCall = json.rows.find((r) => r.subject === 'raw' && r.scenario === 'call_empty_function');
    expect(rawCall?.status).toBe('skipped');
    for (const scenario of BENCH_SCENARIOS) {
      for (const subject of ['fresh', 'copy', 'reuse']) {
        expect(json.rows.find((r) => r.scenario === scenario && r.subject === subject)?.status).toBe('measured');
      }
    }

    for (const row of json.rows.filter(isMeasured)) {
      expect(row.samples).toBeGreaterThanOrEqual(2 * Math.ceil(3 / 2));
      expect(row.p99Us).toBeGreaterThanOrEqual(row.medianUs);
      expect(row.opsPerSec).toBeGreaterThan(0);
      expect(row.minorFaultsPerOp).toBeGreaterThanOrEqual(0);
      expect(row.rssBytes).toBeGreaterThan(0);
      expect(row.fallback).toBeNull();
    }
    // Bytes restored per operation come from the pool that served the row.
    const measured = json.rows.filter(isMeasured);
    for (const row of measured.filter((r) => r.subject === 'fresh')) expect(row.bytesRestoredPerOp).toBe(0);
    // copy zeroes the whole 1 MiB memory on every release.
    for (const row of measured.filter((r) => r.subject === 'copy')) expect(row.bytesRestoredPerOp).toBeGreaterThanOrEqual(1 << 20);
    const keepResident = measured.find((r) => r.subject === 'cow:keep-resident' && r.scenario === 'dirty_1mb_of_memory');
    if (keepResident !== undefined) {
      // keep-resident copies the first keepResidentBytes (1 MiB by default) back and keeps it resident.
      expect(keepResident.bytesRestoredPerOp).toBeGreaterThanOrEqual(1 << 20);
      expect(keepResident.residentPrivateBytes).toBeGreaterThan(0);
    }
    expectRatiosFromSameRun(json);
    expect(json.rows.find((r) => r.subject === 'fresh' && isMeasured(r)) as MeasuredRow).toMatchObject({ ratioToFresh: 1 });

    // The winner of each scenario is the lowest median among the instance strategies.
    for (const w of json.winners) {
      const candidates = json.rows.filter((r): r is MeasuredRow => isMeasured(r) && r.scenario === w.scenario && r.strategy !== 'raw');
      expect(w.medianUs).toBe(Math.min(...candidates.map((r) => r.medianUs)));
      expect(w.subject).not.toBe('raw');
    }
    expect(json.winners.map((w) => w.scenario).sort()).toEqual([...BENCH_SCENARIOS].sort());

    expect(json.threads).toEqual({ status: 'skipped', reason: 'threads.counts is empty' });
    expect(json.lazyTable.status).toBe('measured');
    if (json.lazyTable.status === 'measured') {
      expect(json.lazyTable.reset.ratio).toBe(json.lazyTable.reset.eagerMedianUs / json.lazyTable.reset.lazyMedianUs);
    }
    expect(json.modules[0]?.callTarget?.name).toBe('noop');

    // The growth section: one row per case, its ratios from its own medians.
    expect(json.growth?.status).toBe('measured');
    if (json.growth?.status === 'measured') {
      expect(json.growth.rounds).toBe(1);
      expect(json.growth.rows.map((r) => r.case)).toEqual(['cgi-grow 1 MiB', 'cgi-grow 4 MiB', 'sqlite snapshot, point query', 'sqlite 1,000 rows per run', 'sqlite no snapshot, point query']);
      for (const row of json.growth.rows) {
        expect(row.virtualVsPlain).toBe(row.plainUs / row.virtualUs);
        expect(row.virtualVsRetire).toBe(row.retireUs / row.virtualUs);
        expect(row.virtualVsPlain > 0 && Number.isFinite(row.virtualVsPlain)).toBe(true);
      }
    }
  });

  it('reports a disabled growth section as skipped', async () => {
    const report = await runBench({ ...TINY, strategies: ['fresh'], scenarios: ['instantiate_only'], lazyTable: { enabled: false }, wasi: { enabled: false }, growth: { enabled: false } });
    expect(report.growth).toEqual({ status: 'skipped', reason: 'growth.enabled is false' });
  });

  it('runs from the CLI entry and writes the files --out names', async () => {
    const config = join(dir, 'tiny.json');
    writeFileSync(config, JSON.stringify({ ...TINY, strategies: ['fresh', 'cow', 'raw'], resetModes: ['madvise'] }));
    const prefix = join(dir, 'results', 'run');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['bench', '--quick', '--config', config, '--out', prefix], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    expect(err.join('')).not.toContain('INVALID');
    expect(code).toBe(0);

    const stdout = out.join('');
    expect(stdout).toContain('scenario');
    expect(stdout).toContain('vs fresh');
    expect(stdout).toContain('cow:madvise');
    // Not a terminal: one progress line per task on stderr.
    expect(err.join('')).toMatch(/^bench \[\s*\d+\/\d+\] data-1mib · /m);

    const report = JSON.parse(readFileSync(`${prefix}.json`, 'utf8')) as BenchReport;
    expect(new Set(report.rows.map((r) => r.subject))).toEqual(new Set(['fresh', 'cow:madvise', 'raw']));
    expectRatiosFromSameRun(report);

    const svg = readFileSync(`${prefix}.svg`, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // One bar (a rect carrying a <title>) per measured row.
    expect(svg.match(/<rect [^>]*><title>/g)?.length).toBe(report.rows.filter(isMeasured).length);
    expect(svg).toContain('cow:madvise');

    const md = readFileSync(`${prefix}.md`, 'utf8');
    expect(md).toContain('| module | scenario | fresh | cow:madvise | raw |');
    expect(md).toContain('## Memories that grow per request');
    expect(md).toContain('| run | plain (new instance) | pooled cow, retire | pooled cow, virtual | virtual vs plain | virtual vs retire |');
    expect(stdout).toMatch(/^Memories that grow per request — .*\n\s+run\s+plain \(new instance\)/m);
    expect(report.growth?.status).toBe('measured');
    // The progress line of the section.
    expect(err.join('')).toMatch(/growth · plain vs retire vs virtual/);
  });
});
