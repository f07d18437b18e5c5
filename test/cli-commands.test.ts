import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { watModule } from './helpers/wat-module.js';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'cowpool-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('cowpool CLI: inspect, check-config, help', () => {
  it('inspect says a real module is served copy-on-write (exit 0)', async () => {
    const r = await run(['inspect', require.resolve('sql.js/dist/sql-wasm.wasm')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/copy-on-write \(pooled\)/);
    expect(r.out).toMatch(/338 pages initial/);
  });

  it('inspect --json names the fallback reason of a module that cannot be pooled (exit 1)', async () => {
    const path = join(dir, 'shared.wasm');
    writeFileSync(path, await watModule('(module (memory 1 1 shared))', { threads: true }));
    const r = await run(['inspect', path, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ cow: false, fallbackReason: 'shared-memory' });
  });

  it('inspect says whether reuse keeps the instance, and why not', async () => {
    const refused = join(dir, 'refused.wasm');
    writeFileSync(refused, await watModule('(module (memory 1) (data $p "x") (func $s) (start $s) (func (export "d") (data.drop $p)))'));
    const json = JSON.parse((await run(['inspect', refused, '--json'])).out) as { reuse: { eligible: boolean; refusals: { reason: string }[] } };
    expect(json.reuse.eligible).toBe(false);
    expect(json.reuse.refusals.map((r) => r.reason)).toEqual(['data-drop', 'start-function']);
    expect((await run(['inspect', refused])).out).toMatch(/reuse +new instance per tenant — data-drop: .*; start-function: /);
    const eligible = join(dir, 'eligible.wasm');
    writeFileSync(eligible, await watModule('(module (memory 1) (global (mut i32) (i32.const 0)))'));
    expect((await run(['inspect', eligible])).out).toMatch(/reuse +instance kept and rewound \(exact\)/);
  });

  it('inspect: a missing file or malformed bytes is exit 2 with the code', async () => {
    expect(await run(['inspect', join(dir, 'missing.wasm')])).toMatchObject({ code: 2, err: expect.stringMatching(/ENOENT/) });
    const bad = join(dir, 'bad.wasm');
    writeFileSync(bad, Buffer.from('not wasm'));
    expect(await run(['inspect', bad])).toMatchObject({ code: 2, err: expect.stringMatching(/INVALID_WASM/) });
  });

  it('check-config accepts the shipped defaults and names every bad field (exit 2)', async () => {
    const ok = await run(['check-config', join(__dirname, '..', 'config', 'pool.json')]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/valid/);
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ limits: { maxSlots: -1 }, strategy: 'cloned' }));
    const bad = await run(['check-config', path]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/INVALID_CONFIG/);
    expect(bad.err).toMatch(/limits\.maxSlots/);
    expect(bad.err).toMatch(/strategy/);
  });

  it('--help, --version, unknown commands and options', async () => {
    expect((await run(['--help'])).out).toMatch(/cowpool bench/);
    expect((await run(['--version'])).out.trim()).toBe((require('../package.json') as { version: string }).version);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect(await run(['inspect', 'x.wasm', '--nope'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown option --nope/) });
  });
});
