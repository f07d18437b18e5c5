#!/usr/bin/env node
// What one iteration of an instantiate → (call) → release loop allocates on
// the JS heap, by call site: V8's sampling heap profiler, keeping samples of
// objects already collected, over N iterations after a warm-up. Unlike heap
// growth between collections it does not depend on when V8 collects, so it
// compares builds on a busy host too.
//
// Usage: node scripts/hot-path-allocations.mjs [DIST] [module] [setting] [inst|call]
//   DIST: a build's dist (default: this checkout's); module: a bundled bench
//   module (default data-1mib); setting: madvise | auto | reuse (default
//   madvise); inst: instantiate and release; call: also call the module's
//   empty function through lease.exports.
//   Add --no-turbo-inlining before the script to see call sites that
//   optimized code would fold into their callers.
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('../dist', import.meta.url));
const [distArg, ref = 'data-1mib', setting = 'madvise', what = 'inst'] = process.argv.slice(2);
const dist = distArg === undefined || distArg === '-' ? here : distArg;
const lib = await import(`${dist}/index.js`);
const { loadBenchModule, isSkipped } = await import(`${here}/bench/bench-modules.js`);
const { stubImports } = await import(`${here}/bench/stub-imports.js`);
const { findCallTarget } = await import(`${here}/bench/call-target.js`);

const mod = loadBenchModule(ref);
if (isSkipped(mod)) {
  console.log(`skipped ${ref}: ${mod.reason}`);
  process.exit(0);
}
const config = setting === 'reuse' ? { strategy: 'reuse' } : { strategy: 'cow', reset: { mode: setting } };
const pool = lib.createPool({ ...config, limits: { maxSlots: 4 } });
const prepared = await pool.prepare(mod.bytes, { name: mod.name });
const imports = stubImports(mod.layout, mod.name, prepared.pooled).next().imports;
const probe = pool.instantiate(prepared, imports);
const target = findCallTarget(mod.bytes, mod.layout, probe.instance)?.name ?? null;
probe.release();
const loop = what === 'call' && target !== null
  ? () => {
      const lease = pool.instantiate(prepared, imports);
      lease.exports[target]();
      lease.release();
    }
  : () => pool.instantiate(prepared, imports).release();

const N = 50_000;
for (let i = 0; i < 20_000; i++) loop();
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 64,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
for (let i = 0; i < N; i++) loop();
const { profile } = await session.post('HeapProfiler.stopSampling');
session.disconnect();

const sites = new Map();
let total = 0;
function walk(node, path) {
  const { functionName, url, lineNumber } = node.callFrame;
  const frame = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
  const here = [...path, frame];
  const self = node.selfSize;
  if (self > 0) {
    const key = here.slice(-3).reverse().join(' < ');
    sites.set(key, (sites.get(key) ?? 0) + self);
    total += self;
  }
  for (const child of node.children) walk(child, here);
}
walk(profile.head, []);
console.log(`${ref} ${setting} ${what === 'call' && target !== null ? `instantiate, call ${target}, release` : 'instantiate, release'} (${dist})`);
console.log(`bytes per iteration: ${(total / N).toFixed(0)}`);
for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  if (bytes / N >= 1) console.log(`${(bytes / N).toFixed(0).padStart(7)}  ${site}`);
}
