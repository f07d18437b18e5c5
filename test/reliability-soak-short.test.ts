/**
 * A short soak (scripts/soak.mjs, 20,000 acquire/release cycles across 2
 * worker threads, mixed modules and raw slots) in a child process: no growth
 * of file descriptors, mappings or RSS beyond the configured slots, no tenant
 * sees a previous tenant's byte, no reset fails, and the child exits normally.
 * The same script run on an entry that leaks one descriptor per release must
 * fail, so the check is known to bite. `node scripts/soak.mjs` (from dist/)
 * runs the full million cycles.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TS_REGISTER } from './helpers/reliability-child.js';

const SOAK = fileURLToPath(new URL('../scripts/soak.mjs', import.meta.url));
const SRC_ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const LEAKY_ENTRY = fileURLToPath(new URL('./helpers/reliability-leaky-entry.ts', import.meta.url));

interface SoakSummary {
  cycles: number;
  growth: { fds: number; maps: number; rss: number };
  limits: { fds: number; maps: number; rss: number };
  violations: number;
  resetFailures: number;
  retired: number;
  failures: string[];
}

function soak(entry: string, cycles: number, workers: number): Promise<{ status: number | null; signal: string | null; summary: SoakSummary; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TS_REGISTER, SOAK, '--cycles', String(cycles), '--workers', String(workers), '--entry', entry, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      try {
        resolve({ status, signal, summary: JSON.parse(stdout) as SoakSummary, stderr });
      } catch {
        reject(new Error(`soak printed no summary (status ${status}, signal ${signal}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

describe('soak, short', () => {
  it('20,000 cycles across 2 workers: no growth, no stale byte, no failed reset, a normal exit', async () => {
    const { status, signal, summary, stderr } = await soak(SRC_ENTRY, 20_000, 2);
    expect(summary.failures, stderr).toEqual([]);
    expect({ status, signal }).toEqual({ status: 0, signal: null });
    expect(summary.cycles).toBe(20_000);
    expect(summary.violations).toBe(0);
    expect(summary.resetFailures).toBe(0);
    // Tenants grew the 0-page memory: the retire-and-replace path ran too.
    expect(summary.retired).toBeGreaterThan(0);
    expect(summary.growth.fds).toBeLessThanOrEqual(summary.limits.fds);
    expect(summary.growth.maps).toBeLessThanOrEqual(summary.limits.maps);
    expect(summary.growth.rss).toBeLessThanOrEqual(summary.limits.rss);
  });

  it('notices an entry that leaks a file descriptor per release, and exits 1', async () => {
    const { status, signal, summary } = await soak(LEAKY_ENTRY, 6_000, 1);
    expect({ status, signal }).toEqual({ status: 1, signal: null });
    expect(summary.growth.fds).toBeGreaterThan(summary.limits.fds);
    expect(summary.failures.join('\n')).toMatch(/file descriptors grew by \d+/);
  });
});
