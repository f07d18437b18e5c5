import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH } from './helpers/native-child.js';

/**
 * A worker thread terminated while the reset calibration's completion is
 * pending (it is queued by every prepare) must not take the process down:
 * building the promise's result in a terminating environment throws, and
 * an exception leaving that callback used to abort the process.
 */
describe('reset calibration and worker termination', () => {
  it('terminating workers with a calibration pending leaves the process running (child process)', () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      let left = 25;
      function round() {
        const w = new Worker(\`
          const { parentPort, workerData } = require('node:worker_threads');
          const addon = require(workerData);
          addon.calibrateResetAsync();
          parentPort.postMessage('queued');
        \`, { eval: true, workerData: ${JSON.stringify(ADDON_PATH)} });
        w.once('message', async () => {
          await w.terminate();
          if (--left > 0) round(); else console.log('survived');
        });
      }
      round();`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/terminate called/);
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('survived');
  });
});

/**
 * A worker thread terminated while it loads the addon runs the addon's
 * registration in an environment that is going away: its N-API calls fail,
 * and the error could not be thrown to JS either. That used to abort the
 * whole process (std::terminate in napi_register_module_v1, seen once in
 * ~40 thread-scaling bench runs); the registration now gives up quietly
 * when JS can no longer run.
 */
describe('loading the addon in a worker that is being terminated', () => {
  it('terminating workers at every moment of loading the addon leaves the process running (child process)', () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      const total = 120;
      let left = total;
      function round(i) {
        const w = new Worker(\`
          const { parentPort, workerData } = require('node:worker_threads');
          parentPort.postMessage('started');
          require(workerData);
        \`, { eval: true, workerData: ${JSON.stringify(ADDON_PATH)} });
        w.on('error', () => {});
        // Terminate after a delay that sweeps across the addon's load.
        w.once('message', () => setTimeout(async () => {
          await w.terminate();
          if (--left > 0) round(i + 1); else console.log('survived ' + total);
        }, (i % 12) * 0.25));
      }
      round(0);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/terminate called/);
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('survived 120');
  });
});
