import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CowpoolError } from '../src/errors.js';
import { resolveServeConfig } from '../src/serve/load-serve-config.js';

const dir = mkdtempSync(join(tmpdir(), 'cowpool-serve-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(f: () => unknown): CowpoolError {
  try {
    f();
  } catch (e) {
    return e as CowpoolError;
  }
  throw new Error('expected an error');
}

describe('serve configuration', () => {
  it('resolves module paths against the directory of the config file, whatever the working directory', () => {
    mkdirSync(join(dir, 'conf', 'handlers'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'handlers', 'a.wasm'), '');
    const absolute = join(dir, 'b.wasm');
    writeFileSync(absolute, '');
    const file = join(dir, 'conf', 'serve.json');
    writeFileSync(file, JSON.stringify({ routes: [{ path: '/a', module: 'handlers/a.wasm' }, { path: '/b', module: absolute }] }));
    const config = resolveServeConfig({ file, cwd: '/' });
    expect(config.routes.map((r) => r.module)).toEqual([join(dir, 'conf', 'handlers', 'a.wasm'), absolute]);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, queue: { maxWaiting: 256 }, limits: { deadlineMs: 1000, maxBodyBytes: 1024 * 1024 } });
  });

  it('command-line flags override the file; a module argument serves every path', () => {
    writeFileSync(join(dir, 'h.wasm'), '');
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify({ port: 1, limits: { maxBodyBytes: '2KiB' }, routes: [{ path: '/a', module: 'a.wasm' }] }));
    const config = resolveServeConfig({ file, module: 'h.wasm', port: 0, workers: 3, deadlineMs: 250, host: '::1', cwd: dir });
    expect(config.routes).toEqual([{ path: '/...', module: join(dir, 'h.wasm'), args: [], env: {} }]);
    expect(config).toMatchObject({ port: 0, workers: 3, host: '::1', limits: { deadlineMs: 250, maxBodyBytes: 2048 } });
  });

  it('--strategy sets the workers\' pool strategy over the file\'s, and a bad one names pool.strategy', () => {
    writeFileSync(join(dir, 'h.wasm'), '');
    const file = join(dir, 'pool.json');
    writeFileSync(file, JSON.stringify({ pool: { strategy: 'copy', limits: { maxSlots: 3 } }, routes: [{ path: '/a', module: 'h.wasm' }] }));
    expect(resolveServeConfig({ file, cwd: dir }).pool).toMatchObject({ strategy: 'copy', limits: { maxSlots: 3 } });
    expect(resolveServeConfig({ file, strategy: 'reuse', cwd: dir }).pool).toMatchObject({ strategy: 'reuse', limits: { maxSlots: 3 } });
    expect(() => resolveServeConfig({ module: 'h.wasm', strategy: 'share', cwd: dir })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/pool\.strategy/) }));
  });

  it('names every bad field and its fix', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({
      port: 70000,
      workers: 0,
      limits: { maxBodyBytes: '1MB' },
      log: { format: 'xml' },
      routes: [{ path: 'nope', module: '' }, { path: '/x', module: 'x.wasm', deadlinMs: 5 }, { path: '/x', module: 'y.wasm' }],
    }));
    const error = failure(() => resolveServeConfig({ file }));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues?.map((i) => i.path).sort()).toEqual([
      'limits.maxBodyBytes', 'log.format', 'port', 'routes[0].module', 'routes[0].path', 'routes[1].deadlinMs', 'routes[2].path', 'workers',
    ]);
    const at = (p: string): string => error.issues?.find((i) => i.path === p)?.message ?? '';
    expect(at('routes[1].deadlinMs')).toContain('did you mean deadlineMs?');
    expect(at('routes[0].path')).toContain('"/api/..."');
    expect(at('routes[2].path')).toContain('listed twice');
    expect(at('limits.maxBodyBytes')).toContain('"1MiB"');
    expect(error.message).toContain(file);
  });

  it('without a module or routes, says what to pass', () => {
    const error = failure(() => resolveServeConfig({}));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues?.[0]?.message).toMatch(/cowpool serve handler\.wasm/);
  });
});
