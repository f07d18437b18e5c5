#!/usr/bin/env node
// Two builds of cowpool side by side in one process: instantiate_only and
// call_empty_function on the bundled modules, per strategy, as the ratio of
// medians (after / before). Both builds share this checkout's addon; rounds
// alternate which build goes first, with a full collection between rounds.
// `cow+new-functions` links new host functions for every tenant (as
// Emscripten glue or per-request closures do); the other rows link the same
// ones every time.
//
// Build a baseline first, e.g. from the commit before a change:
//   git archive <commit> | tar -x -C /tmp/base && ln -s "$PWD/node_modules" "$PWD/build" /tmp/base/
//   (cd /tmp/base && npx tsc -p tsconfig.build.json)
// Usage: node --expose-gc scripts/compare-builds.mjs /tmp/base/dist [rounds] [batch]
import { fileURLToPath } from 'node:url';

const [baseArg, roundsArg, batchArg] = process.argv.slice(2);
if (baseArg === undefined) {
  console.error('usage: node --expose-gc scripts/compare-builds.mjs BASE_DIST [rounds] [batch]');
  process.exit(2);
}
const newDist = fileURLToPath(new URL('../dist', import.meta.url));
const rounds = Number(roundsArg ?? 40);
const batch = Number(batchArg ?? 100);
const NEW = await import(`${newDist}/index.js`);
const BASE = await import(`${baseArg}/index.js`);
const { loadBenchModule, isSkipped } = await import(`${newDist}/bench/bench-modules.js`);
const { stubImports } = await import(`${newDist}/bench/stub-imports.js`);
const { findCallTarget } = await import(`${newDist}/bench/call-target.js`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** New functions, same names and other values: what a tenant with its own host functions passes. */
function withNewFunctions(imports) {
  return Object.fromEntries(Object.entries(imports).map(([m, ns]) => [
    m, Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, typeof v === 'function' ? () => 0 : v])),
  ]));
}

async function subject(lib, mod, strategy, newFunctions) {
  const pool = lib.createPool({ strategy, limits: { maxSlots: 8 } });
  const prepared = await pool.prepare(mod.bytes, { name: mod.name });
  const stubs = stubImports(mod.layout, mod.name, prepared.pooled);
  // reuse keeps an instance only for a tenant linking the same values, as the bench does.
  const shared = strategy === 'reuse' ? stubs.next() : null;
  const imports = newFunctions ? () => withNewFunctions(stubs.next().imports) : () => (shared ?? stubs.next()).imports;
  const probe = pool.instantiate(prepared, imports());
  const target = findCallTarget(mod.bytes, mod.layout, probe.instance)?.name ?? null;
  probe.release();
  return {
    pool,
    instantiate_only: () => pool.instantiate(prepared, imports()).release(),
    call_empty_function: target === null ? null : () => {
      const lease = pool.instantiate(prepared, imports());
      lease.exports[target]();
      lease.release();
    },
  };
}

function time(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) fn();
  return Number(process.hrtime.bigint() - start) / batch;
}

const rows = [];
for (const ref of ['data-1mib', 'sparse-16mib', 'sql.js', 'quickjs']) {
  const mod = loadBenchModule(ref);
  if (isSkipped(mod)) {
    console.log(`skipped ${ref}: ${mod.reason}`);
    continue;
  }
  for (const variant of ['cow', 'reuse', 'cow+new-functions']) {
    const strategy = variant === 'reuse' ? 'reuse' : 'cow';
    if (variant === 'cow+new-functions' && !mod.layout.imports.some((i) => i.kind === 'function')) continue;
    const before = await subject(BASE, mod, strategy, variant !== strategy);
    const after = await subject(NEW, mod, strategy, variant !== strategy);
    for (const scenario of ['instantiate_only', 'call_empty_function']) {
      if (before[scenario] === null) continue;
      for (let i = 0; i < batch; i++) {
        before[scenario]();
        after[scenario]();
      }
      const tb = [];
      const ta = [];
      for (let r = 0; r < rounds; r++) {
        globalThis.gc?.();
        if (r % 2 === 0) {
          tb.push(time(before[scenario]));
          ta.push(time(after[scenario]));
        } else {
          ta.push(time(after[scenario]));
          tb.push(time(before[scenario]));
        }
      }
      rows.push({ module: ref, variant, scenario, before: median(tb), after: median(ta) });
    }
    before.pool.close();
    after.pool.close();
  }
}
console.log('| module | strategy | scenario | before µs | after µs | after/before |\n|:---|:---|:---|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.module} | ${r.variant} | ${r.scenario} | ${(r.before / 1000).toFixed(2)} | ${(r.after / 1000).toFixed(2)} | ${(r.after / r.before).toFixed(3)} |`);
}
const geomean = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
for (const v of ['cow', 'reuse', 'cow+new-functions']) {
  const ratios = rows.filter((r) => r.variant === v).map((r) => r.after / r.before);
  if (ratios.length > 0) console.log(`geometric mean after/before, ${v}: ${geomean(ratios).toFixed(3)} (${ratios.length} rows)`);
}
if (globalThis.gc === undefined) console.log('(run with --expose-gc to collect between rounds)');
