/**
 * Every preview1 function links (so any preview1 program instantiates), and
 * every one the host does not implement returns ENOSYS (52) to the guest.
 */
import { describe, expect, it } from 'vitest';
import { IMPLEMENTED_CALLS, WasiHost } from '../src/index.js';
import { watModule } from './helpers/wat-module.js';

const ENOSYS = 52;

const EXPECTED_IMPLEMENTED = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_close', 'fd_fdstat_get', 'fd_filestat_get', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_read', 'fd_readdir',
  'fd_seek', 'fd_tell', 'fd_write', 'path_filestat_get', 'path_open', 'poll_oneoff', 'proc_exit', 'sched_yield', 'random_get',
];

describe('WASI host: calls outside its cover', () => {
  it('implements exactly the documented calls', () => {
    expect([...IMPLEMENTED_CALLS].sort()).toEqual([...EXPECTED_IMPLEMENTED].sort());
  });

  it('every other preview1 function is linked and returns ENOSYS', () => {
    const host = new WasiHost();
    const table = host.imports.wasi_snapshot_preview1;
    const others = Object.keys(table).filter((name) => !EXPECTED_IMPLEMENTED.includes(name));
    expect(others.length).toBe(46 - EXPECTED_IMPLEMENTED.length);
    host.begin({});
    for (const name of others) {
      const fn = table[name] as (...args: number[]) => number;
      expect({ name, errno: fn(3, 0, 0, 0, 0, 0) }).toEqual({ name, errno: ENOSYS });
    }
    host.end();
  });

  it('a guest calling an unimplemented function from wasm gets ENOSYS', async () => {
    const wat = `(module
      (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "unlink") (result i32) (call $unlink (i32.const 3) (i32.const 0) (i32.const 1)))
      (func (export "accept") (result i32) (call $accept (i32.const 3) (i32.const 0) (i32.const 0))))`;
    const host = new WasiHost();
    const instance = new WebAssembly.Instance(new WebAssembly.Module(await watModule(wat)), host.imports);
    host.begin({}).memory = instance.exports['memory'] as WebAssembly.Memory;
    expect((instance.exports['unlink'] as () => number)()).toBe(ENOSYS);
    expect((instance.exports['accept'] as () => number)()).toBe(ENOSYS);
    host.end();
  });

  it('a call with no run current throws LEASE_RELEASED instead of touching anything', () => {
    const host = new WasiHost();
    expect(() => (host.imports.wasi_snapshot_preview1['sock_send'] as () => number)()).toThrow(expect.objectContaining({ code: 'LEASE_RELEASED' }));
    expect(() => (host.imports.wasi_snapshot_preview1['fd_write'] as () => number)()).toThrow(expect.objectContaining({ code: 'LEASE_RELEASED' }));
  });
});
