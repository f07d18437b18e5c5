/**
 * The fault-injection hooks exist only in the test build of the addon
 * (cowpool_test.node). The production addon (cowpool.node, what users and the
 * CLI load) has no injectFault/injectedFaults and ignores COWPOOL_FAULT_INJECT;
 * the test build arms COWPOOL_FAULT_INJECT once per process, however many
 * worker threads load it at the same moment. Each case runs in a child
 * process: the environment is read once per process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const production = fileURLToPath(new URL('../build/Release/cowpool.node', import.meta.url));
const testBuild = fileURLToPath(new URL('../build/Release/cowpool_test.node', import.meta.url));
const loader = fileURLToPath(new URL('../dist/native/addon.js', import.meta.url));

function child(script: string, env: Record<string, string | undefined>): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

// Loads one addon file directly and reports what it exports and whether the
// memfd probe its initialisation runs (the first memfd_create) failed.
function describeAddon(path: string, env: Record<string, string | undefined>): unknown {
  return child(
    `import { createRequire } from 'node:module';
     const a = createRequire(import.meta.url)(${JSON.stringify(path)});
     const image = a.support.memfd ? new a.Image(new Uint8Array([7])) : null;
     console.log(JSON.stringify({
       build: a.build,
       injectFault: typeof a.injectFault,
       injectedFaults: typeof a.injectedFaults,
       memfd: a.support.memfd,
       memfdError: a.support.memfdError,
       image: image === null ? null : image.dataLength,
     }));`,
    env,
  );
}

const FAULT = { COWPOOL_FAULT_INJECT: 'memfd_create:0:1:ENOSYS' };

describe('test hooks are only in the test build', () => {
  it('the production addon exports no hooks and ignores COWPOOL_FAULT_INJECT', () => {
    expect(describeAddon(production, FAULT)).toEqual({
      build: 'production',
      injectFault: 'undefined',
      injectedFaults: 'undefined',
      memfd: true,
      memfdError: null,
      image: 1,
    });
  });

  it('the test build exports the hooks and arms COWPOOL_FAULT_INJECT', () => {
    expect(describeAddon(testBuild, FAULT)).toEqual({
      build: 'test',
      injectFault: 'function',
      injectedFaults: 'function',
      memfd: false,
      memfdError: 'ENOSYS',
      image: null,
    });
  });

  it('the loader picks the production build unless COWPOOL_NATIVE_BUILD=test', () => {
    const script = `const { addon, hasTestHooks } = await import(${JSON.stringify(loader)});
      console.log(JSON.stringify({ build: addon().build, hooks: hasTestHooks() }));`;
    expect(child(script, { COWPOOL_NATIVE_BUILD: undefined })).toEqual({ build: 'production', hooks: false });
    expect(child(script, { COWPOOL_NATIVE_BUILD: 'test' })).toEqual({ build: 'test', hooks: true });
  });

  it('the test build arms COWPOOL_FAULT_INJECT once when eight worker threads load it together', () => {
    // Each worker waits on a shared barrier, then loads the addon; its
    // initialisation probes memfd_create once. One fault was asked for, so
    // exactly one probe in the process fails. The workers stay alive until
    // the main thread has loaded the addon too (the last thread to let go of
    // it unloads the library, and a fresh load would start over), so the main
    // thread's probe and fault count are the same process-wide state.
    const out = child(
      `import { Worker } from 'node:worker_threads';
       import { createRequire } from 'node:module';
       const path = ${JSON.stringify(testBuild)};
       // [0] start gate, [1] workers waiting at it, [2] exit gate
       const gate = new Int32Array(new SharedArrayBuffer(12));
       const body = \`
         const { workerData, parentPort } = require('node:worker_threads');
         const gate = new Int32Array(workerData.gate);
         Atomics.add(gate, 1, 1);
         Atomics.wait(gate, 0, 0);
         const a = require(workerData.path);
         parentPort.postMessage(a.support.memfd);
         Atomics.wait(gate, 2, 0);\`;
       const workers = Array.from({ length: 8 }, () => new Worker(body, { eval: true, execArgv: [], workerData: { gate: gate.buffer, path } }));
       const results = workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
       while (Atomics.load(gate, 1) < 8) await new Promise((r) => setTimeout(r, 1));
       Atomics.store(gate, 0, 1);
       Atomics.notify(gate, 0);
       const memfd = await Promise.all(results);
       const a = createRequire(import.meta.url)(path);
       const summary = { failedProbes: memfd.filter((ok) => !ok).length, mainProbe: a.support.memfd, injected: a.injectedFaults() };
       Atomics.store(gate, 2, 1);
       Atomics.notify(gate, 2);
       await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
       console.log(JSON.stringify(summary));`,
      FAULT,
    );
    expect(out).toEqual({ failedProbes: 1, mainProbe: true, injected: 1 });
  });
});
