/**
 * proc_exit ends the run with its code: the guest is unwound, the exit code
 * reported, the output written before it kept. After an exit every host call
 * throws again, so a guest cannot carry on through the host.
 */
import { describe, expect, it } from 'vitest';
import { runWasi, WasiExit, WasiHost, wasiHost } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';
import { corpusModule, text } from './helpers/wasi-corpus.js';

const EXIT_IN_NESTED_CALL = `(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\10\\00\\00\\00\\04\\00\\00\\00")
  (data (i32.const 16) "done")
  (func $deep (param i32) (call $exit (local.get 0)) unreachable)
  (func (export "_start") (call $deep (i32.const 42)))
  (func (export "write_after") (result i32) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))`;

describe('WASI host: proc_exit', () => {
  it('the exit code of exit() in C is exitCode, with the output written before it', () => {
    for (const code of [0, 1, 42, 255]) {
      const result = runWasi(corpusModule('exit-code'), { args: ['exit-code', String(code)] });
      expect(result.exitCode).toBe(code);
      expect(text(result.stdout)).toBe(`exiting with ${code}\n`);
      expect(text(result.stderr)).toBe('to stderr before exit\n');
    }
  });

  it('proc_exit deep in the call stack unwinds the guest (the unreachable after it never runs)', async () => {
    expect(runWasi(await watModule(EXIT_IN_NESTED_CALL)).exitCode).toBe(42);
  });

  it('after proc_exit every host call throws WasiExit again', async () => {
    const session = wasiHost({});
    const instance = new WebAssembly.Instance(new WebAssembly.Module(await watModule(EXIT_IN_NESTED_CALL)), session.imports);
    expect(session.start(instance.exports)).toBe(42);
    expect(() => (instance.exports['write_after'] as () => number)()).toThrow(WasiExit);
    const result = session.finish();
    expect(result.exitCode).toBe(42);
    expect(result.stdout.length).toBe(0);
  });

  it('a host made once serves the next run after an exit', async () => {
    const host = new WasiHost();
    const bytes = await watModule(EXIT_IN_NESTED_CALL);
    expect(runWasi(bytes, { host }).exitCode).toBe(42);
    expect(host.run).toBeNull();
    expect(runWasi(corpusModule('args'), { host, args: ['x'] }).exitCode).toBe(0);
  });

  it('a run refuses a second one on the same host while it is current (HOST_BUSY)', () => {
    const host = new WasiHost();
    host.begin({});
    expect(() => runWasi(corpusModule('args'), { host })).toThrow(expect.objectContaining({ code: 'HOST_BUSY' }));
    host.end();
  });
});
