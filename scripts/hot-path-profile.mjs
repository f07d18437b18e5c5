#!/usr/bin/env node
// Where an instantiate → call → release loop spends its time and heap, per
// bundled bench module and pool setting: µs per iteration, bytes the JS heap
// grew per iteration between collections, the share of the loop's wall time
// spent in GC (PerformanceObserver 'gc' entries), and µs of a bare
// `new WebAssembly.Instance` of the same prepared module on the same memory
// with the same linked imports (what V8 costs on its own; the rest of an
// instantiate_only iteration is the pool's).
//
// Every tenant links the same import values (as a host with fixed functions
// does), so the import objects are not part of what is measured.
//
// Usage: node --expose-gc scripts/hot-path-profile.mjs [DIST] [seconds per row]
//   DIST defaults to this checkout's dist; pass another build's dist to
//   profile it with this checkout's bench modules (e.g. a baseline).
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const [distArg, secondsArg] = process.argv.slice(2);
const here = fileURLToPath(new URL('../dist', import.meta.url));
const dist = distArg ?? here;
const seconds = Number(secondsArg ?? 1.5);
const lib = await import(`${dist}/index.js`);
const { loadBenchModule, isSkipped } = await import(`${here}/bench/bench-modules.js`);
const { stubImports } = await import(`${here}/bench/stub-imports.js`);
const { findCallTarget } = await import(`${here}/bench/call-target.js`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setImmediate(r));

/** Heap growth per call of `fn` over batches no collection interrupted (a batch that shrank the heap is left out). */
function bytesPerCall(fn, batch = 200, batches = 15) {
  const deltas = [];
  for (let b = 0; b < batches * 4 && deltas.length < batches; b++) {
    const before = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < batch; i++) fn();
    const after = v8.getHeapStatistics().used_heap_size;
    if (after >= before) deltas.push((after - before) / batch);
  }
  return deltas.length === 0 ? NaN : median(deltas);
}

/** µs per call and the share of wall time in GC, over `seconds` in chunks (so 'gc' entries are delivered). */
async function timed(fn) {
  for (let i = 0; i < 2000; i++) fn();
  globalThis.gc?.();
  await tick();
  const gcBefore = gcMs;
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
    await tick();
  }
  const wall = performance.now() - start;
  await tick();
  return { us: (wall * 1000) / n, gcPct: ((gcMs - gcBefore) / wall) * 100 };
}

const settings = [
  ['cow:auto', { strategy: 'cow', reset: { mode: 'auto' } }],
  ['cow:madvise', { strategy: 'cow', reset: { mode: 'madvise' } }],
  ['reuse', { strategy: 'reuse' }],
];
console.log(`build: ${dist}`);
console.log('| module | setting | loop µs | GC % | bytes/iter | instantiate_only µs | bare Instance µs | bare GC % | bare bytes | pool µs |');
console.log('|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|');
const only = process.env.MODULES?.split(',');
for (const ref of ['data-1mib', 'sparse-16mib', 'sql.js', 'quickjs'].filter((r) => only === undefined || only.includes(r))) {
  const mod = loadBenchModule(ref);
  if (isSkipped(mod)) {
    console.log(`skipped ${ref}: ${mod.reason}`);
    continue;
  }
  for (const [label, config] of settings) {
    const pool = lib.createPool({ ...config, limits: { maxSlots: 4 } });
    const prepared = await pool.prepare(mod.bytes, { name: mod.name });
    const imports = stubImports(mod.layout, mod.name, prepared.pooled).next().imports;
    const probe = pool.instantiate(prepared, imports);
    const target = findCallTarget(mod.bytes, mod.layout, probe.instance)?.name ?? null;
    probe.release();
    const loop = target === null
      ? () => pool.instantiate(prepared, imports).release()
      : () => {
          const lease = pool.instantiate(prepared, imports);
          lease.exports[target]();
          lease.release();
        };
    const instantiateOnly = () => pool.instantiate(prepared, imports).release();
    // V8 alone: the prepared module on a pooled memory, linked with what the pool would link.
    const held = pool.instantiate(prepared, imports);
    const bareImports = { ...imports };
    const mi = prepared.memoryImport;
    if (mi !== null && held.memory !== null) bareImports[mi.module] = { ...(imports[mi.module] ?? {}), [mi.name]: held.memory };
    const bare = () => new WebAssembly.Instance(prepared.module, bareImports);
    // reuse makes no instance per tenant: a bare one says nothing about its loop.
    const { us: bareUs, gcPct: bareGc } = label === 'reuse' ? { us: NaN, gcPct: NaN } : await timed(bare);
    const bareBytes = label === 'reuse' ? NaN : bytesPerCall(bare);
    held.release();
    const bytes = bytesPerCall(loop);
    const { us, gcPct } = await timed(loop);
    const onlyUs = (await timed(instantiateOnly)).us;
    console.log(`| ${ref} | ${label} | ${us.toFixed(2)} | ${gcPct.toFixed(1)} | ${Math.round(bytes)} | ${onlyUs.toFixed(2)} | ${bareUs.toFixed(2)} | ${bareGc.toFixed(1)} | ${Math.round(bareBytes)} | ${(onlyUs - bareUs).toFixed(2)} |`);
    pool.close();
  }
}
