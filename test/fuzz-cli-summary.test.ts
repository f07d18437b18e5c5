/**
 * `npm run fuzz` (src/fuzz/cli.ts): help, a replayable run that prints its
 * summary (cases, tenants, failures) with progress kept on stderr, and
 * arguments refused with exit code 2 and a message naming the fix.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/fuzz/cli.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('fuzz CLI', () => {
  it('--help describes the options', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--seconds', '--seed', '--cases', '--target', '--no-faults']) expect(stdout).toContain(flag);
  });

  it('a replayed case prints cases, tenants and failures on stdout and its seed on stderr', async () => {
    const { code, stdout, stderr } = await run(['--seed', '4242', '--cases', '2', '--target', 'cow/madvise', '--target', 'raw/madvise']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^cases: +2 \(seeds 4242\.\.4243\)$/m);
    expect(stdout).toMatch(/^tenants: +\d+ \(cow\/madvise \d+, raw\/madvise \d+\)$/m);
    expect(stdout).toMatch(/^failures: 0$/m);
    expect(stderr).toContain('first seed 4242');
  });

  it('--json prints the summary as JSON', async () => {
    const { code, stdout } = await run(['--seed', '7', '--cases', '1', '--target', 'fresh', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ firstSeed: 7, cases: 1, failures: 0, targets: ['fresh'] });
  });

  it.each([
    [['--target', 'cow/nonsense'], /unknown target; known: fresh, copy, cow\/madvise/],
    [['--seed', '-3'], /--seed must be a whole number from 0 to 4294967295/],
    [['--cases', '0'], /--cases must be a whole number from 1/],
    [['--bogus'], /unknown option --bogus/],
    [['extra'], /unexpected argument "extra"/],
  ])('%j is refused with exit code 2', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
