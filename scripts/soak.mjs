#!/usr/bin/env node
// Soak test: many acquire/release cycles across worker threads with mixed
// modules (images of several sizes, none, a 0-page memory that tenants grow,
// globals and tables) and raw slots, then a check that the process did not
// grow: open file descriptors (/proc/self/fd), memory mappings (/proc/self/maps
// lines) and RSS beyond what the configured slots may hold. Every tenant also
// reads a canary byte that must hold its image's value (or zero) before writing
// its own mark there, so a reset that missed a page is counted too.
//
//   node scripts/soak.mjs [--cycles 1000000] [--workers 4] [--entry dist/index.js] [--json]
//
// Runs from dist/ by default (build first: npm run build); --entry points it at
// another build of the library. Exit status: 0 no growth and no violation, 1
// growth or a violation, 2 bad arguments. The allowances for growth are a few
// file descriptors and mapping lines (wasm memories still waiting for
// collection), the V8 heaps' slack, and for the RSS outside the heaps the bytes
// the configured slots may hold plus a steady-state slack; a leaked descriptor
// or mapping per cycle passes them within a few thousand cycles.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const PAGE = 65536;
/** Slots each worker's InstancePool and RawSlotPool may hold. */
const MAX_SLOTS = 8;
const RAW_SLOTS = 2;
/** The largest memory a soak tenant reaches (module "grows", 2 pages; module "big", 4 pages). */
const MAX_TENANT_BYTES = 4 * PAGE;
const RAW_MAX_BYTES = 4 * PAGE;
/**
 * Slack for what is not a leak. RSS is judged without the V8 heaps, which are
 * judged on their own; what remains still grows by a steady 50-80 MiB after
 * the warm-up whatever the cycle count (malloc arenas of the worker threads,
 * V8's caches outside the heap): measured the same at 100,000 and 3,000,000
 * cycles, so a leak of ~100 bytes a cycle shows over a million cycles.
 */
const RSS_SLACK = 96 * 1024 * 1024;
const HEAP_SLACK = 64 * 1024 * 1024;
const MAPS_SLACK = 512;
const FDS_SLACK = 4;

function gcFunction() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
}

async function settle() {
  const gc = gcFunction();
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------
// Worker: one InstancePool and one RawSlotPool, `cycles` tenants.

/** The modules a worker serves, with the canary address and the byte a fresh instance holds there. */
function soakModules(emitModule) {
  const image = (n, seed) => new Uint8Array(n).map((_, i) => ((i * 31 + seed) & 0xff) || 1);
  const shape = (memory, data, extra = {}) => ({ memory, data, globals: [], tables: [], elems: [], funcCount: 1, start: null, ...extra });
  const small = image(100, 3);
  const big = image(70_000, 5);
  return [
    { name: 'small', bytes: emitModule(shape({ minPages: 1, maxPages: 1 }, [{ mode: 'active', offset: 0, bytes: small }])), canary: 64, expected: small[64] },
    { name: 'big', bytes: emitModule(shape({ minPages: 4, maxPages: 4 }, [{ mode: 'active', offset: 0, bytes: big }])), canary: 65_600, expected: big[65_600] },
    { name: 'none', bytes: emitModule(shape({ minPages: 2, maxPages: 2 }, [], {
      globals: [{ type: 'i32', mutable: true, init: 7 }],
      tables: [{ min: 2, max: null }],
      elems: [{ table: 0, offset: 0, funcs: [0] }],
    })), canary: 64, expected: 0 },
    { name: 'grows', bytes: emitModule(shape({ minPages: 0, maxPages: 2 }, [])), canary: null, expected: 0 },
  ];
}

async function runWorker() {
  const { entry, cycles, index } = workerData;
  const lib = await import(pathToFileURL(entry).href);
  // The module generator ships beside the library (dist/fuzz); a test double for the entry may export its own.
  const { emitModule } = lib.emitModule !== undefined ? lib : await import(pathToFileURL(join(dirname(entry), 'fuzz', `emit-module${extname(entry)}`)).href);
  const pool = lib.createPool({ strategy: 'cow', limits: { maxSlots: MAX_SLOTS, maxUnusedWarmSlots: 4 } });
  const raw = new lib.RawSlotPool({ limits: { maxSlots: RAW_SLOTS, maxMemoryBytesPerSlot: RAW_MAX_BYTES, guardBytes: PAGE } });
  const modules = [];
  for (const m of soakModules(emitModule)) modules.push({ ...m, prepared: await pool.prepare(m.bytes, { name: m.name }) });
  const rawImage = raw.image(new Uint8Array(5000).fill(0x5c));
  let violations = 0;
  let firstViolation = null;
  let rng = 0x9e3779b9 ^ (index * 0x85ebca6b);
  const next = () => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return rng >>> 0;
  };
  const violation = (what) => {
    violations++;
    firstViolation ??= what;
  };

  const cycle = (i) => {
    const r = next();
    if ((r & 15) === 0) {
      const withImage = (r & 16) !== 0;
      const lease = raw.acquire(withImage ? rawImage : null, { initialBytes: 2 * PAGE, maxBytes: RAW_MAX_BYTES });
      const view = new Uint8Array(lease.buffer);
      if (view[100] !== (withImage ? 0x5c : 0) || view[2 * PAGE - 1] !== 0) violation(`raw slot, cycle ${i}: stale bytes`);
      view[100] = 0xab;
      view[2 * PAGE - 1] = 0xab;
      if ((r & 32) !== 0) lease.grow(PAGE);
      lease.release();
      return;
    }
    const m = modules[(r >>> 8) % modules.length];
    const lease = pool.instantiate(m.prepared);
    const exports = lease.exports;
    if (m.canary !== null) {
      const seen = exports.load8(m.canary);
      if (seen !== m.expected) violation(`${m.name}, cycle ${i}: canary byte is ${seen}, expected ${m.expected}`);
      exports.store8(m.canary, 0xab);
    } else {
      if (exports.size() !== 0) violation(`${m.name}, cycle ${i}: a 0-page memory has ${exports.size()} pages`);
      if ((r & 0x30000) === 0) {
        exports.grow(1);
        exports.store8(5, 0xab);
      }
    }
    lease.release();
  };

  const warmup = Math.min(cycles, Math.max(5000, Math.floor(cycles / 20)));
  for (let i = 0; i < warmup; i++) cycle(i);
  await settle();
  parentPort.postMessage({ type: 'warm', heap: getHeapStatistics().total_heap_size });
  await new Promise((r) => parentPort.once('message', r));
  for (let i = warmup; i < cycles; i++) {
    cycle(i);
    if (i % 20_000 === 0) parentPort.postMessage({ type: 'progress', done: i });
  }
  await settle();
  parentPort.postMessage({ type: 'done', cycles, violations, firstViolation, stats: pool.stats(), raw: raw.stats(), heap: getHeapStatistics().total_heap_size });
  await new Promise((r) => parentPort.once('message', r));
  pool.close();
  raw.close();
  rawImage.release();
}

// ---------------------------------------------------------------------------
// Main thread: start the workers, measure before and after.

function resources() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return {
    fds: readdirSync('/proc/self/fd').length,
    maps: readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l !== '').length,
    rss: rssKb * 1024,
  };
}

function parseArgs(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const options = { cycles: 1_000_000, workers: 4, entry: join(here, '..', 'dist', 'index.js'), json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--cycles') options.cycles = Number(value());
    else if (arg === '--workers') options.workers = Number(value());
    else if (arg === '--entry') options.entry = resolve(value());
    else if (arg === '--json') options.json = true;
    else if (arg === '--help') options.help = true;
    else throw new Error(`unknown option ${arg} (known: --cycles N, --workers N, --entry PATH, --json, --help)`);
  }
  if (!Number.isInteger(options.cycles) || options.cycles < 1) throw new Error('--cycles must be a whole number of at least 1');
  if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 64) throw new Error('--workers must be a whole number from 1 to 64');
  return options;
}

const MiB = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`soak: ${e.message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write('usage: node scripts/soak.mjs [--cycles 1000000] [--workers 4] [--entry dist/index.js] [--json]\n');
    return 0;
  }
  const perWorker = Array.from({ length: options.workers }, (_, i) => Math.floor(options.cycles / options.workers) + (i < options.cycles % options.workers ? 1 : 0));
  const workers = perWorker.map((cycles, index) => new Worker(fileURLToPath(import.meta.url), { workerData: { entry: options.entry, cycles, index } }));
  const failures = [];
  for (const w of workers) w.on('error', (e) => failures.push(`a worker failed: ${e.stack ?? e}`));
  const next = (w, type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type === type) {
          w.off('message', onMessage);
          w.off('error', reject);
          resolve(m);
        }
      };
      w.on('message', onMessage);
      w.once('error', reject);
    });
  let done = 0;
  for (const w of workers) {
    w.on('message', (m) => {
      if (m.type === 'progress') done += 20_000;
    });
  }
  const warm = await Promise.all(workers.map((w) => next(w, 'warm')));
  await settle();
  const before = { ...resources(), heap: warm.reduce((n, m) => n + m.heap, getHeapStatistics().total_heap_size) };
  const started = Date.now();
  const timer = setInterval(() => process.stderr.write(`soak: ~${done} cycles, ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${MiB(resources().rss)}\n`), 5000);
  const finished = workers.map((w) => next(w, 'done'));
  for (const w of workers) w.postMessage('go');
  const reports = await Promise.all(finished);
  clearInterval(timer);
  const seconds = (Date.now() - started) / 1000;
  await settle();
  const after = { ...resources(), heap: reports.reduce((n, m) => n + m.heap, getHeapStatistics().total_heap_size) };
  for (const w of workers) w.postMessage('exit');
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));

  const slotBytes = options.workers * (MAX_SLOTS * MAX_TENANT_BYTES + RAW_SLOTS * RAW_MAX_BYTES);
  const limits = { fds: FDS_SLACK, maps: MAPS_SLACK, rss: slotBytes + RSS_SLACK, heap: HEAP_SLACK };
  const growth = { fds: after.fds - before.fds, maps: after.maps - before.maps, heap: after.heap - before.heap, rss: 0 };
  // RSS outside the V8 heaps: where slots, images and native leaks live.
  growth.rss = after.rss - before.rss - Math.max(0, growth.heap);
  const violations = reports.reduce((n, r) => n + r.violations, 0);
  const resetFailures = reports.reduce((n, r) => n + r.stats.resetFailures + r.raw.resetFailures, 0);
  const active = reports.reduce((n, r) => n + r.stats.leases.active + r.raw.leases.active, 0);
  const cycles = reports.reduce((n, r) => n + r.cycles, 0);
  if (growth.fds > limits.fds) failures.push(`file descriptors grew by ${growth.fds} (limit ${limits.fds})`);
  if (growth.maps > limits.maps) failures.push(`mappings grew by ${growth.maps} lines (limit ${limits.maps})`);
  if (growth.rss > limits.rss) failures.push(`RSS outside the V8 heaps grew by ${MiB(growth.rss)} (limit ${MiB(limits.rss)}: the configured slots plus ${MiB(RSS_SLACK)})`);
  if (growth.heap > limits.heap) failures.push(`the V8 heaps grew by ${MiB(growth.heap)} (limit ${MiB(limits.heap)})`);
  if (violations > 0) failures.push(`${violations} tenant(s) saw a previous tenant's byte; first: ${reports.find((r) => r.firstViolation)?.firstViolation}`);
  if (resetFailures > 0) failures.push(`${resetFailures} slot reset(s) failed`);
  if (active > 0) failures.push(`${active} lease(s) still active at the end`);

  const summary = {
    cycles,
    workers: options.workers,
    seconds,
    cyclesPerSecond: Math.round(cycles / seconds),
    before,
    after,
    growth,
    limits,
    violations,
    resetFailures,
    retired: reports.reduce((n, r) => n + r.stats.retired, 0),
    failures,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const row = (name, b, a, g, l) => `  ${name.padEnd(10)} ${String(b).padStart(12)} ${String(a).padStart(12)} ${String(g).padStart(12)} ${String(l).padStart(14)}`;
    process.stdout.write(
      [
        `soak: ${cycles} cycles across ${options.workers} workers in ${seconds.toFixed(1)} s (${summary.cyclesPerSecond} cycles/s)`,
        row('', 'after warmup', 'at the end', 'growth', 'allowed'),
        row('fds', before.fds, after.fds, growth.fds, `+${limits.fds}`),
        row('maps', before.maps, after.maps, growth.maps, `+${limits.maps}`),
        row('rss', MiB(before.rss), MiB(after.rss), MiB(after.rss - before.rss), ''),
        row('v8 heaps', MiB(before.heap), MiB(after.heap), MiB(growth.heap), `+${MiB(limits.heap)}`),
        row('rss - heaps', '', '', MiB(growth.rss), `+${MiB(limits.rss)}`),
        `  isolation violations: ${violations}; reset failures: ${resetFailures}; memories retired (grown): ${summary.retired}; leases active at the end: ${active}`,
        failures.length === 0 ? 'soak: OK' : failures.map((f) => `soak: FAIL ${f}`).join('\n'),
        '',
      ].join('\n'),
    );
  }
  return failures.length === 0 ? 0 : 1;
}

if (isMainThread) {
  process.exitCode = await main();
} else {
  await runWorker();
}
