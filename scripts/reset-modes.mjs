#!/usr/bin/env node
// Prints what each reset mode costs per tenant cycle, as ratios to madvise.
// Build first: npx tsc -p tsconfig.build.json
// Usage: node scripts/reset-modes.mjs [--cycles N] [--warmup N] [--image-kib N]
//          [--pages 1,16,64,256] [--modes madvise,restore-dirty,...]
//          [--layout whole-memory|data-only] [--json]
import { formatResetModes, measureResetModes } from '../dist/bench/reset-modes.js';
import { startResetCalibration } from '../dist/slots/memory-reset.js';

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : undefined;
};
const list = (name) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1].split(',') : undefined;
};
const imageKib = value('--image-kib');
// auto prices faults with this machine's measurement, as a pool does after prepare().
await startResetCalibration();
const result = measureResetModes({
  cycles: value('--cycles'),
  warmupCycles: value('--warmup'),
  imageBytes: imageKib === undefined ? undefined : imageKib * 1024,
  pagesPerTenant: list('--pages')?.map(Number),
  modes: list('--modes'),
  imageLayout: list('--layout')?.[0],
});
console.log(formatResetModes(result));
if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
