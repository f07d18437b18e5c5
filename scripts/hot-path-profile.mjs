#!/usr/bin/env node
// Where an instantiate → call → release loop spends its time and heap, per
// bundled bench module and pool setting, for this checkout's build and
// (given) a baseline build, measured one after the other in this process:
//
// - loop µs: one iteration of instantiate, call the module's empty function
//   (when it has one), release (20th percentile of 500-call chunks);
// - GC %: share of the loop's wall time in GC pauses (PerformanceObserver
//   'gc' entries: major, minor and weak-callback; not incremental marking);
// - bytes/iter: how much the JS heap grew per iteration, over batches no
//   collection interrupted (median);
// - inst µs: instantiate_only (instantiate, release);
// - V8 µs: a bare `new WebAssembly.Instance` of the same prepared module on
//   a pooled memory with the same imports (what V8 costs on its own; its GC
//   % too);
// - reset µs: the addon's reset call as the pool times it (stats().reset,
//   over the same chunk of the instantiate_only run);
// - rest µs: inst − V8 − reset, the pool's JS (slot, lease, bookkeeping)
//   and the GC of its garbage.
//
// Every tenant links the same import values (as a host with fixed functions
// does), so import objects made per tenant are not part of what is measured.
//
// Usage: node --expose-gc scripts/hot-path-profile.mjs [BASE_DIST] [seconds per measurement]
//   MODULES=data-1mib,sql.js limits the modules.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const [baseArg, secondsArg] = process.argv.slice(2);
const here = fileURLToPath(new URL('../dist', import.meta.url));
const seconds = Number(secondsArg ?? 1);
const builds = [['after', await import(`${here}/index.js`)]];
if (baseArg !== undefined && baseArg !== '-') builds.unshift(['before', await import(`${baseArg}/index.js`)]);
const { loadBenchModule, isSkipped } = await import(`${here}/bench/bench-modules.js`);
const { stubImports } = await import(`${here}/bench/stub-imports.js`);
const { findCallTarget } = await import(`${here}/bench/call-target.js`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Pauses only: an incremental-marking entry spans its marking phase while
// the program keeps running, so summing it would count running time as GC.
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_INCREMENTAL) gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setImmediate(r));

/** Heap growth per call of `fn`, median over batches no collection interrupted (a batch that shrank the heap is left out). */
function bytesPerCall(fn, batch = 1000, batches = 9) {
  const deltas = [];
  for (let b = 0; b < batches * 4 && deltas.length < batches; b++) {
    const before = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < batch; i++) fn();
    const after = v8.getHeapStatistics().used_heap_size;
    if (after >= before) deltas.push((after - before) / batch);
  }
  return deltas.length === 0 ? NaN : median(deltas);
}

/**
 * µs per call and the share of wall time in GC, over `seconds` in chunks of
 * 500 calls (so 'gc' entries are delivered between them). The µs are the
 * 20th percentile of the chunks: on a shared host the slow chunks are mostly
 * other processes' time (the GC share still counts every chunk).
 */
async function timed(fn, resets = null) {
  for (let i = 0; i < 2000; i++) fn();
  globalThis.gc?.();
  await tick();
  const gcBefore = gcMs;
  const chunks = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const r0 = resets?.();
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) fn();
    const us = ((performance.now() - t0) * 1000) / 500;
    const r1 = resets?.();
    chunks.push({ us, resetUs: r0 === undefined ? NaN : (r1.micros - r0.micros) / (r1.resets - r0.resets) });
    await tick();
  }
  const wall = performance.now() - start;
  await tick();
  chunks.sort((a, b) => a.us - b.us);
  const chunk = chunks[Math.floor(chunks.length / 5)];
  return { us: chunk.us, resetUs: chunk.resetUs, gcPct: ((gcMs - gcBefore) / wall) * 100 };
}

/** The pool's reset counters summed over modes: the addon's reset calls, timed by the pool. */
function resetTotals(pool) {
  let micros = 0;
  let resets = 0;
  for (const c of Object.values(pool.stats().reset)) {
    micros += c.micros;
    resets += c.resets;
  }
  return { micros, resets };
}

async function measure(lib, mod, label, config) {
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
  let v8Only = { us: NaN, gcPct: NaN };
  // reuse makes no instance per tenant: a bare one says nothing about its loop.
  if (label !== 'reuse') {
    const held = pool.instantiate(prepared, imports);
    const bareImports = { ...imports };
    const mi = prepared.memoryImport;
    if (mi !== null && held.memory !== null) bareImports[mi.module] = { ...(imports[mi.module] ?? {}), [mi.name]: held.memory };
    v8Only = await timed(() => new WebAssembly.Instance(prepared.module, bareImports));
    held.release();
  }
  const bytes = bytesPerCall(loop);
  const { us, gcPct } = await timed(loop);
  const { us: instUs, resetUs } = await timed(instantiateOnly, () => resetTotals(pool));
  pool.close();
  return { us, gcPct, bytes, instUs, v8Us: v8Only.us, v8Gc: v8Only.gcPct, resetUs };
}

const settings = [
  ['cow:auto', { strategy: 'cow', reset: { mode: 'auto' } }],
  ['cow:madvise', { strategy: 'cow', reset: { mode: 'madvise' } }],
  ['reuse', { strategy: 'reuse' }],
];
const only = process.env.MODULES?.split(',');
const f = (x, d = 2) => (Number.isNaN(x) ? '–' : x.toFixed(d));
console.log('| module | setting | build | loop µs | GC % | bytes/iter | inst µs | V8 µs | V8 GC % | reset µs | rest µs |');
console.log('|:---|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const ref of ['data-1mib', 'sparse-16mib', 'sql.js', 'quickjs'].filter((r) => only === undefined || only.includes(r))) {
  const mod = loadBenchModule(ref);
  if (isSkipped(mod)) {
    console.log(`skipped ${ref}: ${mod.reason}`);
    continue;
  }
  for (const [label, config] of settings) {
    for (const [build, lib] of builds) {
      const r = await measure(lib, mod, label, config);
      console.log(`| ${ref} | ${label} | ${build} | ${f(r.us)} | ${f(r.gcPct, 1)} | ${f(r.bytes, 0)} | ${f(r.instUs)} | ${f(r.v8Us)} | ${f(r.v8Gc, 1)} | ${f(r.resetUs)} | ${f(r.instUs - (Number.isNaN(r.v8Us) ? 0 : r.v8Us) - r.resetUs)} |`);
    }
  }
}
