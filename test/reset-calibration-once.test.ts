/**
 * auto's fault and copy prices are measured once per process, off the JS
 * thread: the async measurement, a later synchronous call and another thread
 * all get the same numbers (a second measurement would differ: they are
 * times), and a policy created after prepare() prices with them.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { addon } from '../src/native/addon.js';
import { createAutoResetPolicy, type AutoResetPolicy } from '../src/policy/auto-reset-policy.js';
import { PoolResetState, resetV8Memory, startResetCalibration } from '../src/slots/memory-reset.js';
import { MappedMemory, patternBytes } from './support/reset-harness.js';
import { ADDON_PATH } from './helpers/native-child.js';

/** The measurement as another thread of this process sees it. */
function calibrationOnAnotherThread(): Promise<unknown> {
  // The same addon file as this thread's (the test build): another file would be another library with its own calibration.
  const addonPath = ADDON_PATH;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     parentPort.postMessage(require(workerData).calibrateReset());`,
    { eval: true, workerData: addonPath },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', reject);
  });
}

describe('reset calibration', () => {
  it('is measured once per process: async, sync and another thread get the same numbers', async () => {
    const first = await addon().calibrateResetAsync();
    expect(first.cowFaultNs).toBeGreaterThan(0);
    expect(first.zeroFaultNs).toBeGreaterThan(0);
    expect(addon().calibrateReset()).toEqual(first);
    expect(await addon().calibrateResetAsync()).toEqual(first);
    expect(await calibrationOnAnotherThread()).toEqual(first);
  });

  it('prices the auto policy of a module prepared after it (the dearer of copy-on-write and zero-fill faults)', async () => {
    const pool = createPool({ strategy: 'cow' });
    await pool.prepare(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    pool.close();
    await startResetCalibration();
    const c = addon().calibrateReset();
    const m = new MappedMemory(patternBytes(65536, 1), 2);
    const key = 'calibration-once-test';
    resetV8Memory(m.memory.buffer, m.image, { mode: 'auto', keepResidentBytes: 65536, maxResidentBytes: 1 << 20, trimEvery: 0 }, { pool: m.resets, slot: m.state, key });
    const policy = m.resets.policyOf(key) as AutoResetPolicy | undefined;
    expect(policy?.costModel.cowFaultUs).toBeCloseTo(Math.max(c.cowFaultNs, c.zeroFaultNs) / 1000, 9);
    expect(policy?.costModel.copyPageUs).toBeCloseTo(c.copyPageNs / 1000, 9);
    m.image.release();
  });

  it('reprices, at its next reset, a policy made before the measurement finished', async () => {
    await startResetCalibration();
    const c = addon().calibrateReset();
    // A factory that ignores the measurement: the policy starts on the fallback prices, as one made before it arrived.
    const resets = new PoolResetState((candidates, _calibration, trackWrites) => createAutoResetPolicy(candidates, null, trackWrites));
    const m = new MappedMemory(patternBytes(65536, 2), 2);
    const key = 'calibration-late-test';
    const settings = { mode: 'auto', keepResidentBytes: 65536, maxResidentBytes: 1 << 20, trimEvery: 0 } as const;
    resetV8Memory(m.memory.buffer, m.image, settings, { pool: resets, slot: m.state, key });
    const policy = resets.policyOf(key) as AutoResetPolicy | undefined;
    expect(policy?.candidates.length).toBeGreaterThan(1);
    expect(policy?.calibration).toEqual(c);
    expect(policy?.costModel.cowFaultUs).toBeCloseTo(Math.max(c.cowFaultNs, c.zeroFaultNs) / 1000, 9);
    m.image.release();
  });
});
