// Runs WASI programs under Node's built-in node:wasi, in a child process:
// Node 20's node:wasi crashed after ~150 instances in one process, and a
// crash must end this child, not the test runner. Reads a JSON list of cases
// on stdin; prints a JSON list of results (output base64) on stdout.
// Stdio goes through real files, as node:wasi needs descriptors.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';

const cases = JSON.parse(readFileSync(0, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'cowpool-node-wasi-'));
const results = [];
try {
  for (const c of cases) {
    const files = { in: join(dir, 'in'), out: join(dir, 'out'), err: join(dir, 'err') };
    writeFileSync(files.in, Buffer.from(c.stdin ?? '', 'base64'));
    const fds = { in: openSync(files.in, 'r'), out: openSync(files.out, 'w'), err: openSync(files.err, 'w') };
    const wasi = new WASI({
      version: 'preview1',
      args: c.args ?? [],
      env: c.env ?? {},
      preopens: c.preopens ?? {},
      stdin: fds.in,
      stdout: fds.out,
      stderr: fds.err,
      returnOnExit: true,
    });
    let exitCode = null;
    let error = null;
    const returns = [];
    try {
      const module = new WebAssembly.Module(readFileSync(c.wasm));
      const instance = new WebAssembly.Instance(module, wasi.getImportObject());
      if (c.reactorCalls === undefined) {
        exitCode = wasi.start(instance);
      } else {
        wasi.initialize(instance);
        for (const name of c.reactorCalls) returns.push(instance.exports[name]());
        exitCode = 0;
      }
    } catch (e) {
      error = { name: e?.constructor?.name ?? 'unknown', message: String(e?.message ?? e) };
    }
    for (const fd of Object.values(fds)) closeSync(fd);
    results.push({
      exitCode,
      error,
      returns,
      stdout: readFileSync(files.out).toString('base64'),
      stderr: readFileSync(files.err).toString('base64'),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(results));
