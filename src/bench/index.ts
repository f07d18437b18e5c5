/**
 * `cowpool/bench`: the benchmark harness behind `cowpool bench`, for people
 * who compare strategies from their own scripts. Kept out of the main entry
 * so `import 'cowpool'` loads neither the harness nor tinybench.
 */
export { runBench } from './run-bench.js';
export type { RunBenchOptions } from './run-bench.js';
export { BenchConfigSchema } from './bench-config-schema.js';
export type { BenchConfig, BenchConfigInput } from './bench-config-schema.js';
export type { BenchReport } from './bench-results.js';
