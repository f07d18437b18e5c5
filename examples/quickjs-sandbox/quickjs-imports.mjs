/**
 * QuickJS's own imports, without Emscripten glue: the `@jitl/quickjs-wasmfile-release-sync`
 * build imports 19 functions and its memory under module "a" (minified names; what each is
 * comes from the glue's import table). Made once per slot by the pool (`host`); every
 * function reads the tenant calling it through `ctx`: its memory and its per-call output.
 *
 * The sandbox gives the guest no clock zone, no environment, no files and no timers:
 * stdio writes are collected (up to a cap), everything else answers "not supported".
 */

const ENOSYS = 52;
const ESPIPE = 70;
const OUTPUT_CAP = 64 * 1024;

/** Traps the guest the way the glue's abort() does. */
function abort(what) {
  throw new WebAssembly.RuntimeError(`QuickJS aborted: ${what}`);
}

/** @param {import('cowpool').HostContext<{ output: string[], outputBytes: number }>} ctx */
export function quickJsImports(ctx) {
  const view = () => new DataView(ctx.memory.buffer);
  return {
    a: {
      // __assert_fail(condition, file, line, function)
      b: (condition, file, line) => abort(`assertion ${ctx.readString(condition, 256).split('\0')[0]} at ${ctx.readString(file, 256).split('\0')[0]}:${line}`),
      // abort()
      q: () => abort('abort()'),
      // _emscripten_runtime_keepalive_clear
      l: () => {},
      // _localtime_js(time: i64, tm*): UTC, so no host time zone reaches the guest
      m: (time, tm) => {
        const date = new Date(Number(time) * 1000);
        const fields = [date.getUTCSeconds(), date.getUTCMinutes(), date.getUTCHours(), date.getUTCDate(), date.getUTCMonth(), date.getUTCFullYear() - 1900, date.getUTCDay()];
        ctx.writeBytes(tm, new Uint8Array(40));
        const v = view();
        fields.forEach((value, i) => v.setInt32(tm + 4 * i, value, true));
      },
      // _setitimer_js(which, ms): no timers
      j: () => 0,
      // _tzset_js(timezone*, daylight*, std_name*, dst_name*)
      n: (timezone, daylight, stdName, dstName) => {
        ctx.writeBytes(timezone, new Uint8Array(4));
        ctx.writeBytes(daylight, new Uint8Array(4));
        ctx.writeString(stdName, 17, 'UTC', true);
        ctx.writeString(dstName, 17, 'UTC', true);
      },
      // emscripten_date_now
      p: () => Date.now(),
      // emscripten_resize_heap(bytes): refused; the sandbox's heap is the module's initial 16 MiB
      k: () => 0,
      // environ_get / environ_sizes_get: an empty environment
      e: () => 0,
      f: (count, size) => {
        ctx.writeBytes(count, new Uint8Array(4));
        ctx.writeBytes(size, new Uint8Array(4));
        return 0;
      },
      // fd_close, fd_seek
      d: () => ENOSYS,
      o: () => ESPIPE,
      // fd_write(fd, iovs, iovs_len, nwritten*): collected per call, up to a cap
      c: (fd, iovs, count, written) => {
        const data = ctx.data;
        let total = 0;
        for (let i = 0; i < count; i++) {
          const entry = new DataView(ctx.readBytes(iovs + 8 * i, 8).buffer);
          const ptr = entry.getUint32(0, true);
          const len = entry.getUint32(4, true);
          const bytes = ctx.readBytes(ptr, len);
          const room = Math.max(0, OUTPUT_CAP - data.outputBytes);
          if (room > 0) data.output.push(new TextDecoder().decode(bytes.subarray(0, room)));
          data.outputBytes += len;
          total += len;
        }
        ctx.writeBytes(written, new Uint8Array(new Uint32Array([total]).buffer));
        return 0;
      },
      // proc_exit
      r: (code) => abort(`exit(${code})`),
      // host callbacks (host functions, interrupts, modules, host refs): none are registered
      s: () => 0,
      // shouldInterrupt(rt): past the call's deadline, QuickJS throws an uncatchable "interrupted"
      i: () => (performance.now() > ctx.data.deadline ? 1 : 0),
      h: () => 0,
      g: () => 0,
      t: () => {},
    },
  };
}
