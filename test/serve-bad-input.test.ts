import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/cowpool.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cowpool-serve-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(...args: string[]): { status: number | null; signal: string | null; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'serve', '--port', '0', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

describe('cowpool serve refuses bad input with a typed error and exit 2, never a crash', () => {
  it('a module path that does not exist names the route and the fix', () => {
    const r = serve(join(dir, 'missing.wasm'));
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INVALID_CONFIG[\s\S]*routes\[0\]\.module: .*missing\.wasm: ENOENT — give the path of a \.wasm file/);
  });

  it('a file that is not WebAssembly stops the start with INSTANTIATE_FAILED naming the byte', () => {
    const bad = join(dir, 'bad.wasm');
    writeFileSync(bad, 'not wasm at all');
    const r = serve(bad);
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/terminate called|at Worker/);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INSTANTIATE_FAILED: serve: the workers could not start: INVALID_WASM: malformed wasm at byte 0/);
  });

  it('an initializer export that does not exist stops the start and says which', () => {
    const r = serve(fileURLToPath(new URL('./fixtures/wasi/cgi-echo.wasm', import.meta.url)), '--initialize', 'no_such_export');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no_such_export/);
  });
});
