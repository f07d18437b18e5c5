/**
 * Every pointer and length a guest passes is checked against its current
 * memory: a range outside it is EFAULT (21) returned to the guest — never a
 * host exception, never a partial write — and the range is checked against
 * the memory of the run that is current, not a buffer an earlier tenant had.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestFault, guestBytes, readString, runWasi, WasiHost, writeString } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';

const EFAULT = 21;
const PAGE = 65536;

// One page of memory; each export makes one call with a range that ends past
// the page (or starts there) and returns the errno. Bytes 0..63 hold a valid
// iovec/subscription area so only the tested argument is out of range.
const WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\40\\00\\00\\00\\05\\00\\00\\00")
  (data (i32.const 64) "hello")
  (data (i32.const 128) "hello.txt")
  ;; iovec at 8 pointing past the end of memory
  (data (i32.const 8) "\\fe\\ff\\00\\00\\10\\00\\00\\00")
  ;; iovec at 16 with a length that wraps a 32-bit sum
  (data (i32.const 16) "\\00\\01\\00\\00\\ff\\ff\\ff\\ff")
  (func (export "write_iovec_out") (result i32) (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 32)))
  (func (export "write_iovec_wraps") (result i32) (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32)))
  (func (export "write_iovs_array_out") (result i32) (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 32)))
  (func (export "write_iovs_count_huge") (result i32) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0x20000000) (i32.const 32)))
  (func (export "write_nwritten_out") (result i32) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 65534)))
  (func (export "write_negative_ptr") (result i32) (call $fd_write (i32.const 1) (i32.const -8) (i32.const 1) (i32.const 32)))
  (func (export "read_into_out") (result i32) (call $fd_read (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 32)))
  (func (export "args_get_out") (result i32) (call $args_get (i32.const 65532) (i32.const 256)))
  (func (export "args_buf_out") (result i32) (call $args_get (i32.const 256) (i32.const 65535)))
  (func (export "args_sizes_out") (result i32) (call $args_sizes_get (i32.const 256) (i32.const 65533)))
  (func (export "environ_out") (result i32) (call $environ_get (i32.const 256) (i32.const 65535)))
  (func (export "clock_out") (result i32) (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65529)))
  (func (export "random_out") (result i32) (call $random_get (i32.const 65000) (i32.const 1000)))
  (func (export "fdstat_out") (result i32) (call $fd_fdstat_get (i32.const 1) (i32.const 65520)))
  (func (export "prestat_name_out") (result i32) (call $fd_prestat_dir_name (i32.const 3) (i32.const 65535) (i32.const 8)))
  (func (export "path_out") (result i32)
    (call $path_open (i32.const 3) (i32.const 1) (i32.const 65530) (i32.const 9) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 300)))
  (func (export "open_result_out") (result i32)
    (call $path_open (i32.const 3) (i32.const 1) (i32.const 128) (i32.const 9) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 65535)))
  (func (export "filestat_out") (result i32) (call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 128) (i32.const 9) (i32.const 65500)))
  (func (export "readdir_out") (result i32) (call $fd_readdir (i32.const 3) (i32.const 65500) (i32.const 100) (i64.const 0) (i32.const 300)))
  (func (export "poll_out") (result i32) (call $poll_oneoff (i32.const 65500) (i32.const 0) (i32.const 1) (i32.const 300)))
  (func (export "poll_count_huge") (result i32) (call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 0x10000000) (i32.const 300)))
  (func (export "_start")))`;

const CALLS = [
  'write_iovec_out', 'write_iovec_wraps', 'write_iovs_array_out', 'write_iovs_count_huge', 'write_nwritten_out', 'write_negative_ptr',
  'read_into_out', 'args_get_out', 'args_buf_out', 'args_sizes_out', 'environ_out', 'clock_out', 'random_out', 'fdstat_out',
  'prestat_name_out', 'path_out', 'open_result_out', 'filestat_out', 'readdir_out', 'poll_out', 'poll_count_huge',
] as const;

describe('WASI host: pointers outside memory', () => {
  it('every call with a range outside memory returns EFAULT and leaves memory and output untouched', async () => {
    const module = new WebAssembly.Module(await watModule(WAT));
    const host = new WasiHost();
    for (const name of CALLS) {
      const run = host.begin({ args: ['prog', 'an argument'], env: { A: 'b' }, stdin: 'input', preopens: { '/sandbox': { 'hello.txt': 'hi' } } });
      const instance = new WebAssembly.Instance(module, host.imports);
      const memory = instance.exports['memory'] as WebAssembly.Memory;
      run.memory = memory;
      const before = new Uint8Array(memory.buffer).slice();
      const errno = (instance.exports[name] as () => number)();
      const result = host.end();
      expect({ name, errno }).toEqual({ name, errno: EFAULT });
      expect({ name, changed: !before.every((b, i) => b === new Uint8Array(memory.buffer)[i]) }).toEqual({ name, changed: false });
      expect(result.stdout.length).toBe(0);
    }
  });

  it('the same calls in range succeed (the EFAULTs above come from the ranges, not the calls)', async () => {
    const fixed = WAT
      .replace('(i32.const 8) (i32.const 1) (i32.const 32)))\n  (func (export "write_iovec_wraps")', '(i32.const 0) (i32.const 1) (i32.const 32)))\n  (func (export "write_iovec_wraps")')
      .replace('(call $random_get (i32.const 65000) (i32.const 1000))', '(call $random_get (i32.const 65000) (i32.const 500))')
      .replace('(call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65529))', '(call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65528))');
    const module = new WebAssembly.Module(await watModule(fixed));
    const host = new WasiHost();
    for (const name of ['write_iovec_out', 'random_out', 'clock_out'] as const) {
      const run = host.begin({});
      const instance = new WebAssembly.Instance(module, host.imports);
      run.memory = instance.exports['memory'] as WebAssembly.Memory;
      expect({ name, errno: (instance.exports[name] as () => number)() }).toEqual({ name, errno: 0 });
      const result = host.end();
      if (name === 'write_iovec_out') expect(new TextDecoder().decode(result.stdout)).toBe('hello');
    }
  });

  it('a host made once checks against the current run\'s memory, not an earlier tenant\'s', async () => {
    // Tenant A has 2 pages, tenant B 1: a write at 70000 is in A's memory and outside B's.
    const wat = (pages: number) => `(module
      (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
      (memory (export "memory") ${pages})
      (func (export "fill") (result i32) (call $random_get (i32.const 70000) (i32.const 16)))
      (func (export "_start")))`;
    const host = new WasiHost();
    const a = new WebAssembly.Instance(new WebAssembly.Module(await watModule(wat(2))), host.imports);
    const b = new WebAssembly.Instance(new WebAssembly.Module(await watModule(wat(1))), host.imports);
    host.begin({}).memory = a.exports['memory'] as WebAssembly.Memory;
    expect((a.exports['fill'] as () => number)()).toBe(0);
    host.end();
    host.begin({}).memory = b.exports['memory'] as WebAssembly.Memory;
    expect((b.exports['fill'] as () => number)()).toBe(EFAULT);
    host.end();
  });

  it('a run of a module whose pointers are all bad ends normally (no host exception escapes)', async () => {
    const wat = `(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (if (i32.ne (call $fd_write (i32.const 1) (i32.const 70000) (i32.const 1) (i32.const 0)) (i32.const 21)) (then unreachable))))`;
    expect(runWasi(await watModule(wat)).exitCode).toBe(0);
  });
});

describe('guest memory helpers', () => {
  it('a range is accepted exactly when it lies inside memory, pointers and lengths read as u32', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const ctx = { memory };
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (ptr, len) => {
        const inside = (ptr >>> 0) + (len >>> 0) <= PAGE;
        let threw = false;
        try {
          expect(guestBytes(ctx, ptr, len).length).toBe(len >>> 0);
        } catch (e) {
          expect(e).toBeInstanceOf(GuestFault);
          threw = true;
        }
        expect(threw).toBe(!inside);
      }),
      { numRuns: 2000 },
    );
    // The edges, which random integers rarely hit.
    expect(() => guestBytes(ctx, PAGE, 0)).not.toThrow();
    expect(() => guestBytes(ctx, PAGE - 1, 1)).not.toThrow();
    expect(() => guestBytes(ctx, PAGE - 1, 2)).toThrow(GuestFault);
    expect(() => guestBytes(ctx, PAGE, 1)).toThrow(GuestFault);
  });

  it('reads the memory as it is now: after growth, a range that faulted is inside', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const ctx = { memory };
    expect(() => writeString(ctx, PAGE + 10, 5, 'hello')).toThrow(GuestFault);
    memory.grow(1);
    expect(writeString(ctx, PAGE + 10, 5, 'hello')).toBe(5);
    expect(readString(ctx, PAGE + 10, 5)).toBe('hello');
  });

  it('no memory current is a fault, not a TypeError', () => {
    expect(() => guestBytes({ memory: null }, 0, 1)).toThrow(GuestFault);
  });
});
