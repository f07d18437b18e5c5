/**
 * Per-call time of a fresh QuickJS VM from the pool (reuse, cow) against the shared-module
 * baseline (one instance, a new runtime and context per call), measured side by side in one
 * run: rounds alternate between the subjects, and each subject's figure is its median
 * round. Ratios are against the baseline of the same run.
 *
 *   node examples/quickjs-sandbox/bench.mjs [calls-per-round] [rounds]
 */
import { createQuickJsSandbox, sharedModuleVm } from './quickjs-sandbox.mjs';

const CODE = 'let s = 0; for (let i = 0; i < 100; i++) s += i; JSON.stringify({ s, t: typeof globalThis.leak })';
const perRound = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 9);

const subjects = {
  'shared module, new runtime+context': sharedModuleVm(),
  'reuse, snapshot VM': await createQuickJsSandbox({ strategy: 'reuse' }),
  'reuse (restore-dirty), snapshot VM': await createQuickJsSandbox({ strategy: 'reuse', resetMode: 'restore-dirty' }),
  'cow, snapshot VM': await createQuickJsSandbox({ strategy: 'cow' }),
  'reuse, new runtime+context': await createQuickJsSandbox({ strategy: 'reuse', snapshot: false }),
  'cow, new runtime+context': await createQuickJsSandbox({ strategy: 'cow', snapshot: false }),
};
const expected = subjects['shared module, new runtime+context'].evaluate(CODE).value;
const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));

for (let round = 0; round < rounds + 1; round++) {
  for (const [name, subject] of Object.entries(subjects)) {
    const start = performance.now();
    for (let i = 0; i < perRound; i++) {
      const result = subject.evaluate(CODE);
      if (result.value !== expected) throw new Error(`${name}: ${JSON.stringify(result)} (expected ${expected})`);
    }
    // Round 0 warms up.
    if (round > 0) samples[name].push(((performance.now() - start) * 1000) / perRound);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const baseline = median(samples['shared module, new runtime+context']);
console.log(`QuickJS, one call = ${JSON.stringify(CODE)}; ${rounds} rounds × ${perRound} calls, medians`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`${name.padEnd(36)} ${m.toFixed(1).padStart(8)} µs/call   ${(m / baseline).toFixed(2)}× the shared module`);
}
for (const subject of Object.values(subjects)) subject.close?.();
