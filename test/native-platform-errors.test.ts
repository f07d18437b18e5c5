import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The loader's checks run once per process, so each case gets a child that
// imports the compiled loader (dist/ is built by `npm test`'s pretest step).
const loader = fileURLToPath(new URL('../dist/native/addon.js', import.meta.url));

function loadInChild(prelude: string, env: Record<string, string> = {}): { code?: string; message?: string; ok?: boolean } {
  const script = `${prelude}
    const { addon } = await import(${JSON.stringify(loader)});
    try { addon(); console.log(JSON.stringify({ ok: true })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, errno: e.errno })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { code?: string; message?: string };
}

describe('the addon refuses to start where it cannot work', () => {
  it('loads on this Linux machine', () => {
    expect(loadInChild('')).toEqual({ ok: true });
  });

  it('names the platform when it is not Linux', () => {
    const out = loadInChild(`Object.defineProperty(process, 'platform', { value: 'darwin' });`);
    expect(out.code).toBe('UNSUPPORTED_PLATFORM');
    expect(out.message).toMatch(/needs Linux.*darwin/);
  });

  it('explains a kernel without memfd_create', () => {
    const out = loadInChild('', { COWPOOL_FAULT_INJECT: 'memfd_create:0:1:ENOSYS' });
    expect(out.code).toBe('UNSUPPORTED_PLATFORM');
    expect(out.message).toMatch(/memfd_create is unavailable \(ENOSYS\)/);
  });

  it('says how to rebuild when the addon file is not a loadable addon', () => {
    const notAnAddon = fileURLToPath(new URL('../CMakeLists.txt', import.meta.url));
    const out = loadInChild('', { COWPOOL_NATIVE_PATH: notAnAddon });
    expect(out.code).toBe('NATIVE_UNAVAILABLE');
    expect(out.message).toMatch(/failed to load.*npm run build/);
  });
});
