import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own child process: the addon maps memory and a
    // bug there must not take other files down with it.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // The suite runs against the test build of the addon (cowpool_test.node,
    // with the fault-injection hooks; `npm test` builds it). Child processes
    // the tests start inherit this.
    env: { COWPOOL_NATIVE_BUILD: 'test' },
  },
});
