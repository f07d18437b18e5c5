import { describe, expect, it } from 'vitest';
import { runServeBench, serveBenchTable, type ServeBenchReport } from '../src/bench/serve-bench.js';
import { renderServeBenchSvg } from '../src/bench/serve-bench-svg.js';

const module = new URL('./fixtures/wasi/cgi-secret.wasm', import.meta.url).pathname;

describe('cowpool bench serve', () => {
  it('ratios in the table come from the same run\'s naive and floor rows', () => {
    const report: ServeBenchReport = {
      module: 'x.wasm',
      connections: 4,
      durationSeconds: 1,
      rows: [
        { subject: 'floor', requestsPerSecond: 1000, p50Ms: 1, p99Ms: 2, non2xx: 0, errors: 0 },
        { subject: 'naive', requestsPerSecond: 50, p50Ms: 20, p99Ms: 40, non2xx: 0, errors: 0 },
        {
          subject: 'cowpool (1 worker)', requestsPerSecond: 400, p50Ms: 2, p99Ms: 5, non2xx: 1, errors: 2,
          cpu: { httpThread: 40, workers: 80, v8Platform: 30, other: 1.5, loadGenerator: 25 },
        },
      ],
    };
    const table = serveBenchTable(report);
    expect(table).toContain('| cowpool (1 worker) | 40.0 | 80.0 | 30.0 | 1.5 | 25.0 | 176.5 |');
    expect(table).toContain('| cowpool (1 worker) | 400 | 2.00 | 5.00 | 8.00× | 40% | 3 |');
    expect(table).toContain('| naive | 50 | 20.00 | 40.00 | 1.00× | 5% | 0 |');
    const svg = renderServeBenchSvg(report, 'test machine');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('400 req/s');
    expect(svg).toContain('×8.00 naive');
  });

  it('runs every server under load and each answers every request with 2xx', async () => {
    const lines: string[] = [];
    const report = await runServeBench({ module, durationSeconds: 1, warmupSeconds: 0, connections: 4, workers: [1], progress: (l) => lines.push(l) });
    expect(report.rows.map((r) => r.subject)).toEqual(['floor', 'naive', 'node-wasi', 'cowpool (1 worker)', 'cowpool reuse (1 worker)']);
    for (const row of report.rows) {
      // Node 20's node:wasi can die (SIGSEGV) under load, a Node bug (DESIGN.md); the bench reports it as such.
      if (row.subject === 'node-wasi' && row.crashed !== undefined && Number(process.versions.node.split('.')[0]) < 22) continue;
      expect(row.crashed, row.subject).toBeUndefined();
      expect(row.requestsPerSecond, row.subject).toBeGreaterThan(0);
      expect(row.non2xx + row.errors, row.subject).toBe(0);
      if (process.platform === 'linux') {
        // Where the CPU went: the server's HTTP thread and the load generator both worked for every subject.
        expect(row.cpu?.httpThread, row.subject).toBeGreaterThan(0);
        expect(row.cpu?.loadGenerator, row.subject).toBeGreaterThan(0);
      }
    }
    for (const subject of ['floor', 'naive', 'node-wasi', 'cowpool (1 worker)', 'cowpool reuse (1 worker)']) expect(lines).toContain(`serve bench: ${subject}`);
  }, 120_000);
});
