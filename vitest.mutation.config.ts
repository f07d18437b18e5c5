import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of src/slots, src/pool and
 * src/policy (stryker.config.json). Only files that exercise those folders in
 * the test process itself: a child process or a worker thread does not see
 * which mutant is active, so files that do their work there only cost time.
 */
export default defineConfig({
  test: {
    include: [
      'test/policy-*.test.ts',
      'test/pool-*.test.ts',
      'test/isolation-*.test.ts',
      'test/reset-*.test.ts',
      'test/security-*.test.ts',
      'test/table-*.test.ts',
      'test/raw-slot-isolation.test.ts',
      'test/raw-slot-guard-regions.test.ts',
      'test/reliability-hostile-modules.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
