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
