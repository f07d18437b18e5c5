#!/usr/bin/env node
// Plain `new WebAssembly.Instance` against pooled instantiate + release, and a
// raw slot acquire + reset against `new ArrayBuffer` + copying the image, each
// as a ratio of medians measured side by side in this process.
// Build first (npm install does): npx tsc -p tsconfig.build.json
// Usage: node scripts/instantiate-ratio.mjs [--strategy cow|copy|reuse] [module refs...]
import { formatInstantiateRatios, measureInstantiateRatios } from '../dist/bench/instantiate-ratio.js';
import { measureRawSlotRatio } from '../dist/bench/raw-slot-ratio.js';

const args = process.argv.slice(2);
const at = args.indexOf('--strategy');
const strategy = at >= 0 ? args[at + 1] : 'cow';
const refs = args.filter((a, i) => !a.startsWith('--') && !(at >= 0 && i === at + 1));
const { results, skipped } = await measureInstantiateRatios(refs.length > 0 ? refs : undefined, { strategy });
console.log(formatInstantiateRatios(results));
for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`);
const raw = measureRawSlotRatio();
console.log(
  `raw slot, ${raw.imageBytes / 1024} KiB image in ${raw.initialBytes / 1024} KiB: acquire+reset ${(raw.pooledNs / 1000).toFixed(1)} µs, ` +
    `new ArrayBuffer+copy ${(raw.copyNs / 1000).toFixed(1)} µs — ×${raw.ratio.toFixed(1)}`,
);
