#!/usr/bin/env node
/**
 * Mutation check for the parts StrykerJS cannot reach: the C++ addon (and the
 * few TypeScript lines that decide a failed slot's state). Each mutation is a
 * one-line change that breaks a safety property; the suite must FAIL with it.
 *
 *   repository ──copy──► scratch dir (never the working tree)
 *        for each mutation: apply ─► build addon (incremental) ─► run its test files ─► undo
 *
 * Prints a table (mutation, killed/survived, by which test) and exits 1 if
 * any mutation survives, 2 if the unmutated suite already fails there.
 *
 * Usage: node scripts/native-mutations.mjs [--only <id>[,<id>...]] [--keep]
 *   --keep  leave the scratch copy in place (its path is printed)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The mutations. `find` must occur exactly once in `file`; `tests` are the
 * files that must catch it (several are fine: any failure kills it).
 */
const MUTATIONS = [
  {
    id: 'reset-skips-madvise',
    what: 'skip a reset: DiscardRange never calls madvise',
    file: 'native/range_ops.cc',
    find: 'if (sys::Madvise(base, length, MADV_DONTNEED) != 0)',
    replace: 'if (false && sys::Madvise(base, length, MADV_DONTNEED) != 0)',
    tests: ['test/isolation-next-tenant.test.ts', 'test/reset-modes-equivalence.test.ts'],
  },
  {
    id: 'image-drops-write-seal',
    what: 'drop a seal: image memfds lose F_SEAL_WRITE',
    file: 'native/image.cc',
    find: 'F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL',
    replace: 'F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL',
    tests: ['test/native-image-sealed.test.ts'],
  },
  {
    id: 'image-drops-shrink-seal',
    what: 'drop a seal: image memfds lose F_SEAL_SHRINK',
    file: 'native/image.cc',
    find: 'F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL',
    replace: 'F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL',
    tests: ['test/native-image-sealed.test.ts'],
  },
  {
    id: 'v8-failed-reset-left-clean',
    what: 'leave a failed slot clean: a V8 slot whose reset threw is marked clean',
    file: 'src/slots/v8-slot.ts',
    find: "    } catch (e) {\n      this.state = 'unknown';\n      throw e;\n    }\n    this.state = 'clean';",
    replace: "    } catch (e) {\n      this.state = 'clean';\n      throw e;\n    }\n    this.state = 'clean';",
    tests: ['test/reliability-syscall-faults.test.ts'],
  },
  {
    id: 'raw-failed-reset-left-clean',
    what: 'leave a failed slot clean: a raw slot whose reset threw is marked clean',
    file: 'src/slots/range-slot.ts',
    find: "    } catch (e) {\n      this.state = 'unknown';\n      throw e;\n    }\n    this.state = 'clean';",
    replace: "    } catch (e) {\n      this.state = 'clean';\n      throw e;\n    }\n    this.state = 'clean';",
    tests: ['test/reliability-syscall-faults.test.ts'],
  },
  {
    id: 'restore-skips-zero-past-image',
    what: 'skip zeroing past the image: restore-dirty/track-writes leave written zero-part pages as they are',
    file: 'native/dirty_restore.cc',
    find: '    std::memset(start, 0, static_cast<size_t>(end - start));\n    return written + static_cast<size_t>(end - start);',
    replace: '    return written + static_cast<size_t>(end - start);',
    tests: ['test/isolation-next-tenant.test.ts', 'test/reset-modes-equivalence.test.ts'],
  },
  {
    id: 'keep-resident-skips-zero-past-image',
    what: 'skip zeroing past the image: keep-resident leaves its prefix past a short image unzeroed',
    file: 'native/range_ops.cc',
    find: 'if (keep > copy) std::memset(base + copy, 0, keep - copy);',
    replace: 'if (false) std::memset(base + copy, 0, keep - copy);',
    tests: ['test/reset-modes-equivalence.test.ts'],
  },
  {
    id: 'map-image-keeps-old-tail',
    what: "skip zeroing past the image: mapImage keeps a longer previous image's tail",
    file: 'native/memory_binding.cc',
    find: 'if (previous > image_length) MapZeroAt(',
    replace: 'if (false) MapZeroAt(',
    tests: ['test/isolation-next-tenant.test.ts', 'test/reset-modes-equivalence.test.ts'],
  },
  {
    id: 'pread-scan-ignores-swapped',
    what: 'ignore swapped pages in the dirty scan (pagemap read source)',
    file: 'native/page_scan.cc',
    find: '  if (entry & kPagemapSwapped) {',
    replace: '  if (false && (entry & kPagemapSwapped)) {',
    tests: ['test/reset-swapped-pages.test.ts'],
  },
  {
    id: 'ioctl-scan-ignores-swapped',
    what: 'ignore swapped pages in the dirty scan (PAGEMAP_SCAN source)',
    file: 'native/page_scan.h',
    find: 'constexpr uint64_t kPrivateAnyof = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;',
    replace: 'constexpr uint64_t kPrivateAnyof = PAGE_IS_PRESENT;',
    tests: ['test/reset-swapped-pages.test.ts'],
  },
  {
    id: 'private-count-halved',
    what: "miscount private pages: the scanner's count (what the cap and stats rely on) is halved",
    file: 'native/range_ops.cc',
    find: '        pages += static_cast<size_t>(runs[i].end - runs[i].start) / page;',
    replace: '        pages += static_cast<size_t>(runs[i].end - runs[i].start) / page / 2;',
    tests: ['test/reset-resident-cap.test.ts', 'test/pool-stats-memory.test.ts'],
  },
];

function parseArgs(argv) {
  const out = { only: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') out.only = new Set((argv[++i] ?? '').split(','));
    else if (argv[i] === '--keep') out.keep = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return out;
}

function run(cmd, args, cwd, env = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Copies the files git knows (tracked, and untracked but not ignored) as they are in the working tree. */
function makeScratch() {
  const scratch = mkdtempSync(join(tmpdir(), 'cowpool-native-mutations-'));
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    const to = join(scratch, file);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to);
  }
  // Dependencies are read-only for this script: share them.
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  return scratch;
}

function buildAddon(scratch, full) {
  const r = run('npx', ['cmake-js', full ? 'compile' : 'build', '--log-level', 'warn'], scratch);
  if (r.status !== 0) throw new Error(`addon build failed in ${scratch}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
}

/** Runs vitest on `tests`; returns the names of failed tests (empty: all passed). */
function runTests(scratch, tests) {
  const report = join(scratch, 'tmp', `vitest-${Date.now()}.json`);
  mkdirSync(dirname(report), { recursive: true });
  const r = run('npx', ['vitest', 'run', '--reporter=json', `--outputFile=${report}`, ...tests], scratch);
  const failed = [];
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    for (const file of json.testResults ?? []) {
      const short = file.name.replace(`${scratch}/`, '');
      for (const t of file.assertionResults ?? []) if (t.status === 'failed') failed.push(`${short} > ${t.fullName}`);
      // A file that failed without a failed test (crash, error at import) still counts.
      if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')) {
        failed.push(`${short} (file failed: ${(file.message ?? '').split('\n')[0]})`);
      }
    }
  } else if (r.status !== 0) {
    failed.push(`vitest exited with ${r.status ?? r.signal}: ${r.stderr.split('\n').slice(-5).join(' ')}`);
  }
  if (failed.length === 0 && r.status !== 0) failed.push(`vitest exited with ${r.status ?? r.signal}`);
  return failed;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const chosen = MUTATIONS.filter((m) => args.only === null || args.only.has(m.id));
  if (chosen.length === 0) throw new Error('no mutation selected');
  const scratch = makeScratch();
  console.log(`scratch copy: ${scratch}`);
  const rows = [];
  try {
    buildAddon(scratch, true);
    // The unmutated suite must pass here, or a "killed" means nothing.
    const allTests = [...new Set(chosen.flatMap((m) => m.tests))];
    const baseline = runTests(scratch, allTests);
    if (baseline.length > 0) {
      console.error(`the unmutated tests fail in the scratch copy:\n  ${baseline.join('\n  ')}`);
      process.exitCode = 2;
      return;
    }
    for (const m of chosen) {
      const path = join(scratch, m.file);
      const original = readFileSync(path, 'utf8');
      const at = original.indexOf(m.find);
      if (at < 0 || original.indexOf(m.find, at + 1) >= 0) {
        rows.push({ m, result: 'ERROR', by: `the line to mutate is not found exactly once in ${m.file}` });
        continue;
      }
      writeFileSync(path, original.replace(m.find, m.replace));
      try {
        if (m.file.startsWith('native/')) buildAddon(scratch, false);
        const failed = runTests(scratch, m.tests);
        rows.push({ m, result: failed.length > 0 ? 'killed' : 'SURVIVED', by: failed[0] ?? '-', count: failed.length });
      } catch (e) {
        // A mutation that does not build is not a test result.
        rows.push({ m, result: 'ERROR', by: String(e.message ?? e).split('\n')[0] });
      } finally {
        writeFileSync(path, original);
      }
      console.log(`${rows.at(-1).result.padEnd(8)} ${m.id}`);
    }
    if (chosen.some((m) => m.file.startsWith('native/'))) buildAddon(scratch, false);
  } finally {
    if (!args.keep) rmSync(scratch, { recursive: true, force: true });
  }
  console.log('\n| mutation | what | result | failed tests | first test that caught it |');
  console.log('|---|---|---|---|---|');
  for (const { m, result, by, count } of rows) console.log(`| ${m.id} | ${m.what} | ${result} | ${count ?? '-'} | ${by} |`);
  const survived = rows.filter((r) => r.result !== 'killed');
  console.log(`\n${rows.length - survived.length}/${rows.length} mutations killed`);
  if (survived.length > 0) process.exitCode = 1;
}

main();
