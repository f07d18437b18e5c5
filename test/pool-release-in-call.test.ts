/**
 * No give-back while the instance runs. A host import that releases its own
 * lease (directly, or glue tearing down on an error) used to hand the slot to
 * the pool mid-call: the rest of the call wrote into a memory already reset
 * for the next tenant, who read the write (`badbad` at 8192). release() from
 * inside a call now throws LEASE_IN_CALL and changes nothing, whatever path
 * the call came in by, under every strategy and reset mode; the host releases
 * after the call returns and the next tenant reads 0.
 */
import { describe, expect, it } from 'vitest';
import { createPool, isCowpoolError, RESET_MODES, STRATEGIES, type Imports, type InstancePool, type Lease, type PreparedModule } from '../src/index.js';
import { collectUntil, forcedGc } from './helpers/forced-gc.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module
  (import "h" "cb" (func $cb))
  (memory (export "mem") 1)
  (table (export "tab") 1 funcref)
  (elem (i32.const 0) $run)
  (func $run (export "run")
    (i32.store (i32.const 4096) (i32.const 0x1234))
    (call $cb)
    (i32.store (i32.const 8192) (i32.const 0xBADBAD)))
  (func (export "poke") (param $at i32) (i32.store (local.get $at) (i32.const 0xBADBAD)))
  (func (export "peek") (param $at i32) (result i32) (i32.load (local.get $at))))`;

const BAD = 0xbadbad;

type Peek = (at: number) => number;

async function setup(config: Parameters<typeof createPool>[0]): Promise<{ pool: InstancePool; prepared: PreparedModule }> {
  const pool = createPool(config);
  const prepared = await pool.prepare(await watModule(WAT), { name: 'reentrant' });
  return { pool, prepared };
}

/** What the import saw when it tried to release; `null` when release() went through. */
function releaseFromImport(holder: { lease: Lease | null }, seen: unknown[]): Imports {
  return {
    h: {
      cb: () => {
        try {
          holder.lease?.release();
          seen.push(null);
        } catch (e) {
          seen.push(e);
        }
      },
    },
  };
}

function codeOf(e: unknown): string | null {
  return isCowpoolError(e) ? e.code : null;
}

/** The next tenant of the (single) slot must not see the running call's late write. */
function nextTenantReads(pool: InstancePool, prepared: PreparedModule, imports: Imports): number {
  const next = pool.instantiate(prepared, imports);
  try {
    return (next.exports.peek as Peek)(8192);
  } finally {
    next.release();
  }
}

const MODES = RESET_MODES;

describe('release() from inside a call is refused (LEASE_IN_CALL), every strategy and reset mode', () => {
  for (const strategy of STRATEGIES) {
    for (const mode of strategy === 'cow' || strategy === 'reuse' ? MODES : (['madvise'] as const)) {
      it(`${strategy}${strategy === 'cow' || strategy === 'reuse' ? `/${mode}` : ''}: the next tenant reads 0 at 8192`, async () => {
        const { pool, prepared } = await setup({ strategy, reset: { mode }, limits: { maxSlots: 1 } });
        try {
          const holder: { lease: Lease | null } = { lease: null };
          const seen: unknown[] = [];
          // One imports object for every tenant, so `reuse` keeps its instance.
          const imports = releaseFromImport(holder, seen);
          const lease = pool.instantiate(prepared, imports);
          holder.lease = lease;
          (lease.exports.run as () => void)();
          holder.lease = null;
          expect(seen.map(codeOf)).toEqual(['LEASE_IN_CALL']);
          expect(lease.released).toBe(false);
          expect((lease.exports.peek as Peek)(8192)).toBe(BAD);
          lease.release();
          expect(nextTenantReads(pool, prepared, imports)).toBe(0);
          expect(pool.stats().leases.active).toBe(0);
        } finally {
          pool.close();
        }
      });
    }
  }
});

describe('every path into the instance counts', () => {
  const paths: [string, (lease: Lease) => void][] = [
    ['lease.exports', (lease) => (lease.exports.run as () => void)()],
    ['lease.instance.exports', (lease) => (lease.instance.exports.run as () => void)()],
    ['a function taken out of the exported table (raw instance)', (lease) => ((lease.instance.exports.tab as WebAssembly.Table).get(0) as () => void)()],
    ['a function taken out of the exported table (lease view)', (lease) => ((lease.exports.tab as WebAssembly.Table).get(0) as () => void)()],
  ];
  for (const [name, call] of paths) {
    for (const strategy of ['cow', 'reuse'] as const) {
      it(`${name}, ${strategy}`, async () => {
        const { pool, prepared } = await setup({ strategy, limits: { maxSlots: 1 } });
        try {
          const holder: { lease: Lease | null } = { lease: null };
          const seen: unknown[] = [];
          const imports = releaseFromImport(holder, seen);
          const lease = (holder.lease = pool.instantiate(prepared, imports));
          call(lease);
          holder.lease = null;
          expect(seen.map(codeOf)).toEqual(['LEASE_IN_CALL']);
          lease.release();
          expect(nextTenantReads(pool, prepared, imports)).toBe(0);
        } finally {
          pool.close();
        }
      });
    }
  }

  it('Emscripten-style glue: an import of the hook-served instance that releases the lease is refused', async () => {
    const { pool, prepared } = await setup({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const seen: unknown[] = [];
      const hook = pool.emscriptenHook(prepared);
      // Glue reads the memory first (the hook reserves the slot), then instantiates through the hook.
      expect(hook.wasmMemory).toBeInstanceOf(WebAssembly.Memory);
      let received: WebAssembly.Instance | null = null;
      const glueImports: Imports = {
        h: {
          cb: () => {
            try {
              hook.lease?.release();
              seen.push(null);
            } catch (e) {
              seen.push(e);
            }
          },
        },
      };
      const wasmExports = hook(glueImports, (instance) => {
        received = instance;
      });
      expect(received).not.toBeNull();
      (wasmExports.run as () => void)();
      expect(seen.map(codeOf)).toEqual(['LEASE_IN_CALL']);
      hook.lease!.release();
      expect(nextTenantReads(pool, prepared, { h: { cb: () => undefined } })).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('an argument converted by valueOf before wasm starts counts as inside the call (lease.exports)', async () => {
    const { pool, prepared } = await setup({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const imports = { h: { cb: () => undefined } };
      const lease = pool.instantiate(prepared, imports);
      let refused: unknown = null;
      const address = {
        valueOf: (): number => {
          try {
            lease.release();
          } catch (e) {
            refused = e;
          }
          return 8192;
        },
      };
      (lease.exports.poke as (at: unknown) => void)(address);
      expect(codeOf(refused)).toBe('LEASE_IN_CALL');
      lease.release();
      expect(nextTenantReads(pool, prepared, imports)).toBe(0);
    } finally {
      pool.close();
    }
  });
});

describe('the count follows the stack', () => {
  it('glue that releases and then throws: the throw unwinds the call, the count returns to 0 and release() then works', async () => {
    const { pool, prepared } = await setup({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      let lease: Lease | null = null;
      const imports = {
        h: {
          cb: () => {
            lease!.release();
            throw new Error('not reached: release() throws first');
          },
        },
      };
      lease = pool.instantiate(prepared, imports);
      expect(() => (lease!.instance.exports.run as () => void)()).toThrow(expect.objectContaining({ code: 'LEASE_IN_CALL' }));
      // The late store never ran (the call unwound), and nothing was given back.
      expect((lease.exports.peek as Peek)(8192)).toBe(0);
      expect((lease.exports.peek as Peek)(4096)).toBe(0x1234);
      lease.release();
      expect(lease.released).toBe(true);
      expect(nextTenantReads(pool, prepared, imports)).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('nested calls: refused at every depth, allowed once the outermost call returned', async () => {
    const { pool, prepared } = await setup({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const codes: (string | null)[] = [];
      let depth = 0;
      let lease: Lease | null = null;
      const tryRelease = (): void => {
        try {
          lease!.release();
          codes.push(null);
        } catch (e) {
          codes.push(codeOf(e));
        }
      };
      const imports = {
        h: {
          cb: () => {
            depth += 1;
            if (depth === 1) {
              (lease!.instance.exports.run as () => void)();
              // The inner call returned; this one has not.
              tryRelease();
            } else {
              tryRelease();
            }
          },
        },
      };
      lease = pool.instantiate(prepared, imports);
      (lease.exports.run as () => void)();
      expect(codes).toEqual(['LEASE_IN_CALL', 'LEASE_IN_CALL']);
      lease.release();
      expect(lease.released).toBe(true);
    } finally {
      pool.close();
    }
  });

  it('a trap thrown out through an import (wasm → import → wasm traps) leaves the count at 0', async () => {
    const wat = `(module (import "h" "cb" (func $cb)) (memory 1)
      (func (export "boom") (call $cb))
      (func (export "trap") unreachable))`;
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(await watModule(wat));
      let lease: Lease | null = null;
      lease = pool.instantiate(prepared, { h: { cb: () => (lease!.instance.exports.trap as () => void)() } });
      expect(() => (lease!.exports.boom as () => void)()).toThrow(WebAssembly.RuntimeError);
      lease.release();
      expect(lease.released).toBe(true);
    } finally {
      pool.close();
    }
  });
});

describe('other pool operations from inside a call', () => {
  it('instantiate() is allowed and gets another slot; that lease may be released inside the call', async () => {
    const { pool, prepared } = await setup({ strategy: 'cow', limits: { maxSlots: 2 } });
    try {
      let outer: Lease | null = null;
      let innerMemory: WebAssembly.Memory | null = null;
      const quiet = { h: { cb: () => undefined } };
      const imports = {
        h: {
          cb: () => {
            const inner = pool.instantiate(prepared, quiet);
            innerMemory = inner.memory;
            (inner.exports.poke as (at: number) => void)(8192);
            inner.release();
          },
        },
      };
      outer = pool.instantiate(prepared, imports);
      (outer.exports.run as () => void)();
      expect(innerMemory).not.toBeNull();
      expect(innerMemory).not.toBe(outer.memory);
      expect((outer.exports.peek as Peek)(4096)).toBe(0x1234);
      outer.release();
      expect(pool.stats().leases).toMatchObject({ active: 0, acquired: 2, released: 2 });
    } finally {
      pool.close();
    }
  });

  it('close() is allowed, gives back no leased slot, and release() is still refused until the call returned', async () => {
    const { pool, prepared } = await setup({ strategy: 'cow', limits: { maxSlots: 1 } });
    let lease: Lease | null = null;
    const seen: unknown[] = [];
    const imports = {
      h: {
        cb: () => {
          pool.close();
          try {
            lease!.release();
            seen.push(null);
          } catch (e) {
            seen.push(e);
          }
        },
      },
    };
    lease = pool.instantiate(prepared, imports);
    const memory = lease.memory!;
    (lease.exports.run as () => void)();
    expect(pool.closed).toBe(true);
    expect(seen.map(codeOf)).toEqual(['LEASE_IN_CALL']);
    // Not reset mid-call: the write before the import is still there.
    expect(new DataView(memory.buffer).getInt32(4096, true)).toBe(0x1234);
    lease.release();
    // Given back to a closed pool: the memory is dropped, never reset for anyone.
    expect(pool.stats().retired).toBe(1);
    expect(new DataView(memory.buffer).getInt32(8192, true)).toBe(BAD);
  });

  it('a reservation cancelled from the start function of its own instance gives nothing back', async () => {
    const wat = `(module (import "h" "cb" (func $cb)) (memory (export "mem") 1)
      (func $start (call $cb) (i32.store (i32.const 8192) (i32.const 0xBADBAD)))
      (start $start)
      (func (export "peek") (param $at i32) (result i32) (i32.load (local.get $at))))`;
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 2 } });
    try {
      const prepared = await pool.prepare(await watModule(wat));
      const reservation = pool.reserve(prepared);
      const lease = reservation.instantiate({ h: { cb: () => reservation.cancel() } });
      expect(lease.memory).toBe(reservation.memory);
      expect((lease.exports.peek as Peek)(8192)).toBe(BAD);
      // The slot is still this lease's: a second instance gets the other one.
      const other = pool.instantiate(prepared, { h: { cb: () => undefined } });
      expect(other.memory).not.toBe(lease.memory);
      other.release();
      lease.release();
      expect(pool.stats().leases.active).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('a lease dropped inside a call is reclaimed only after it, by retiring its memory, never resetting it for the next tenant', async () => {
    const gc = forcedGc();
    for (const strategy of ['cow', 'reuse'] as const) {
      const { pool, prepared } = await setup({ strategy, limits: { maxSlots: 1 } });
      try {
        const holder: { lease: Lease | null } = { lease: null };
        let reclaimedInCall = -1;
        const imports = {
          h: {
            cb: () => {
              // The host forgets the lease mid-call; a collection runs now.
              holder.lease = null;
              gc();
              reclaimedInCall = pool.stats().leases.reclaimed;
            },
          },
        };
        const { run, memory } = ((): { run: () => void; memory: WebAssembly.Memory } => {
          const lease = pool.instantiate(prepared, imports);
          holder.lease = lease;
          return { run: lease.instance.exports.run as () => void, memory: lease.memory! };
        })();
        run();
        expect(reclaimedInCall).toBe(0);
        expect(await collectUntil(() => pool.stats().leases.reclaimed === 1)).toBe(true);
        const next = pool.instantiate(prepared, imports);
        expect(next.memory).not.toBe(memory);
        expect((next.exports.peek as Peek)(8192)).toBe(0);
        next.release();
      } finally {
        pool.close();
      }
    }
  });
});

describe('JSPI', () => {
  it('a WebAssembly.Suspending import is refused (SUSPENDING_IMPORT) under every strategy, and no slot stays taken', async () => {
    const wasm = WebAssembly as unknown as { Suspending?: new (fn: () => unknown) => object };
    const native = wasm.Suspending;
    // Node 24+ has JSPI; on older engines a stand-in class takes its name for the test.
    if (native === undefined) wasm.Suspending = class Suspending {};
    try {
      const Suspending = wasm.Suspending!;
      for (const strategy of STRATEGIES) {
        const { pool, prepared } = await setup({ strategy, limits: { maxSlots: 1 } });
        try {
          const calls: string[] = [];
          const first = { h: { cb: () => void calls.push('first') } };
          // Refused both when the slot links for the first time and when it updates its last linking.
          for (const round of [0, 1]) {
            expect(() => pool.instantiate(prepared, { h: { cb: new Suspending(async () => undefined) as unknown as WebAssembly.ImportValue } })).toThrow(
              expect.objectContaining({ code: 'SUSPENDING_IMPORT' }),
            );
            expect(pool.stats().leases.active).toBe(0);
            // The slot went back: the pool still serves, linked to the functions passed.
            const lease = pool.instantiate(prepared, round === 0 ? first : { h: { cb: () => void calls.push('second') } });
            (lease.exports.run as () => void)();
            lease.release();
          }
          expect(calls).toEqual(['first', 'second']);
        } finally {
          pool.close();
        }
      }
    } finally {
      if (native === undefined) delete wasm.Suspending;
    }
  });
});
