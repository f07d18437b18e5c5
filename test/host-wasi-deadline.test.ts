/**
 * deadlineMs: a run past its deadline throws DEADLINE_EXCEEDED at its next
 * host call, and a clock sleep never sleeps past it. (A wasm loop that never
 * calls the host cannot be interrupted on its own thread; that is documented,
 * not tested here.) Runs that must stop run in a child process with a kill
 * timer: if the deadline broke, a synchronous guest loop would hang the test
 * runner instead of failing.
 */
import { describe, expect, it } from 'vitest';
import { runWasi } from '../src/index.js';
import { runTsChild, srcUrl } from './helpers/reliability-child.js';
import { watModule } from './helpers/wat-module.js';

/** Runs `bytes` with `deadlineMs` in a child; resolves to the error code it threw (or what went wrong). */
async function codeInChild(bytes: Uint8Array, deadlineMs: number): Promise<string> {
  const outcome = await runTsChild(`
    const { runWasi } = await import(${JSON.stringify(srcUrl('host/run-wasi.ts'))});
    try {
      runWasi(Buffer.from(${JSON.stringify(Buffer.from(bytes).toString('base64'))}, 'base64'), { deadlineMs: ${deadlineMs} });
      console.log('returned');
    } catch (e) {
      console.log(e.code ?? e.name);
    }`, { timeoutMs: 20_000 });
  return outcome.signal === null ? outcome.stdout.trim() : `killed by ${outcome.signal}`;
}

describe('WASI host: deadlines', () => {
  it('a guest that keeps calling the host is stopped at a call after the deadline', async () => {
    const wat = `(module
      (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (loop $forever (drop (call $yield)) (br $forever))))`;
    expect(await codeInChild(await watModule(wat), 30)).toBe('DEADLINE_EXCEEDED');
  });

  it('a clock sleep longer than the deadline ends at the deadline with DEADLINE_EXCEEDED', async () => {
    // poll_oneoff on one relative clock subscription of 1000 s.
    const wat = `(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 24) "\\00\\10\\a5\\d4\\e8\\00\\00\\00")
      (func (export "_start") (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))`;
    expect(await codeInChild(await watModule(wat), 20)).toBe('DEADLINE_EXCEEDED');
  });

  it('the same sleep of 1 ms completes with one clock event when there is no deadline', async () => {
    const wat = `(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "\\07\\00\\00\\00\\00\\00\\00\\00")
      (data (i32.const 16) "\\01\\00\\00\\00")
      (data (i32.const 24) "\\40\\42\\0f\\00\\00\\00\\00\\00")
      (func (export "_start")
        (if (i32.ne (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)) (i32.const 0)) (then unreachable))
        (if (i32.ne (i32.load (i32.const 128)) (i32.const 1)) (then unreachable))
        (if (i64.ne (i64.load (i32.const 64)) (i64.const 7)) (then unreachable))
        (if (i32.ne (i32.load16_u (i32.const 72)) (i32.const 0)) (then unreachable))))`;
    expect(runWasi(await watModule(wat)).exitCode).toBe(0);
  });

  it('a deadline that is not a positive number is refused', () => {
    expect(() => runWasi(new Uint8Array(0), { deadlineMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
