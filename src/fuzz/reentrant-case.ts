/**
 * Re-entrant host actors for the isolation fuzzer: a tenant whose run calls
 * back into the host, where the host does pool operations on the spot —
 * releases the running tenant's own lease, instantiates other tenants (and
 * keeps or releases them), closes the pool, or calls back into the running
 * instance. A pure function of the seed, like the main case.
 *
 * The re-entrant module ("R") is emitted here, apart from the main case's
 * modules, so the two generators stay independent:
 *
 *   (import "host" "cb" (func $cb (param i32)))
 *   (memory (export "mem") P Q)   data: a small random image
 *   (table (export "tab") 1 1 funcref) (elem (i32.const 0) $run)
 *   (func $run (export "run") (param $a i32) (param $v i32) (param $n i32)
 *     for i in 0..n: mem[a + 4096 i] = v; cb(i); mem[a + 4096 i + 1] = v)
 *   (func (export "size") (result i32) memory.size)
 *
 * The store after each callback is the one that would land in the next
 * tenant's memory if a give-back inside the callback went through.
 */
import { FUZZ_PAGE, type ModuleShape } from './module-shape.js';
import { Prng } from './prng.js';
import {
  body, byteVec, EXPORT_KIND, funcType, i32ConstExpr, limits, module, name, OP, s32, SECTION, section, u32, vec, VALTYPE, type Bytes,
} from './wasm-encoder.js';

/** How the host enters the running tenant. */
export type ReentryPath = 'view' | 'raw' | 'table';

/** What the host does inside the callback at one step of the run. */
export type HostActor =
  | { kind: 'none' }
  /** release() of the running tenant's own lease. */
  | { kind: 'release' }
  /** pool.instantiate() of module `module` (-1: R itself), observed against plain V8; released in the callback or kept until after the run. */
  | { kind: 'instantiate'; module: number; keep: boolean }
  /** pool.close(); the case ends once the run returns. */
  | { kind: 'close' }
  /** Calls the running instance again (run(a, v, 1), whose own callback tries release()). */
  | { kind: 'nested' };

export type ReentrantTenant =
  /** A tenant of the main case's module `module`, observed against plain V8 right after instantiation. */
  | { kind: 'plain'; module: number }
  | { kind: 'reentrant'; path: ReentryPath; address: number; value: number; actors: HostActor[] };

export interface ReentrantCase {
  seed: number;
  /** R's shape (as observeState reads it) and binary. */
  shape: ModuleShape;
  bytes: Uint8Array;
  tenants: ReentrantTenant[];
}

/** R's memory is at least this many pages, so every step's two stores fit. */
const MIN_PAGES = 1;
const STEP = 4096;

function emitReentrant(shape: ModuleShape): Uint8Array {
  const { i32 } = VALTYPE;
  const i32Mul = 0x6c;
  const types = [funcType([i32], []), funcType([i32, i32, i32], []), funcType([], [i32])];
  const imports: Bytes = [...name('host'), ...name('cb'), 0x00, ...u32(0)];
  const address: Bytes = [OP.localGet, ...u32(0), OP.localGet, ...u32(3), OP.i32Const, ...s32(STEP), i32Mul, OP.i32Add];
  const run: Bytes = [
    OP.block, OP.void,
    OP.loop, OP.void,
    OP.localGet, ...u32(3), OP.localGet, ...u32(2), OP.i32GeU, OP.brIf, ...u32(1),
    ...address, OP.localGet, ...u32(1), OP.i32Store8, ...u32(0), ...u32(0),
    OP.localGet, ...u32(3), OP.call, ...u32(0),
    ...address, OP.localGet, ...u32(1), OP.i32Store8, ...u32(0), ...u32(1),
    OP.localGet, ...u32(3), OP.i32Const, ...s32(1), OP.i32Add, OP.localSet, ...u32(3),
    OP.br, ...u32(0),
    OP.end,
    OP.end,
  ];
  const memory = shape.memory!;
  const sections: Bytes[] = [
    section(SECTION.type, vec(types)),
    section(SECTION.import, vec([imports])),
    section(SECTION.function, vec([u32(1), u32(2)])),
    section(SECTION.table, vec([[VALTYPE.funcref, ...limits(1, 1)]])),
    section(SECTION.memory, vec([limits(memory.minPages, memory.maxPages)])),
    section(SECTION.export, vec([
      [...name('mem'), EXPORT_KIND.memory, ...u32(0)],
      [...name('tab'), EXPORT_KIND.table, ...u32(0)],
      [...name('run'), EXPORT_KIND.function, ...u32(1)],
      [...name('size'), EXPORT_KIND.function, ...u32(2)],
    ])),
    section(SECTION.element, vec([[0x00, ...i32ConstExpr(0), ...vec([u32(1)])]])),
    section(SECTION.code, vec([body([[1, i32]], run), body([], [OP.memorySize, 0x00])])),
  ];
  const data = shape.data.flatMap((d) => (d.mode === 'active' ? [[0x00, ...i32ConstExpr(d.offset), ...byteVec(d.bytes)]] : []));
  if (data.length > 0) sections.push(section(SECTION.data, vec(data)));
  return module(sections);
}

function reentrantShape(prng: Prng): ModuleShape {
  const minPages = prng.int(MIN_PAGES, 3);
  const memBytes = minPages * FUZZ_PAGE;
  const data: ModuleShape['data'] = [];
  for (let i = prng.int(0, 3); i > 0; i--) {
    const length = prng.int(1, 6000);
    const bytes = prng.chance(0.5) ? prng.bytes(length) : new Uint8Array(length).fill(prng.int(1, 255));
    data.push({ mode: 'active', offset: prng.int(0, memBytes - length), bytes });
  }
  return {
    memory: { minPages, maxPages: prng.chance(0.5) ? null : minPages + prng.int(0, 2) },
    data,
    globals: [],
    tables: [],
    elems: [],
    funcCount: 0,
    start: null,
  };
}

function actor(prng: Prng, modules: number): HostActor {
  return prng.weighted<() => HostActor>([
    [20, () => ({ kind: 'none' })],
    [35, () => ({ kind: 'release' })],
    [30, () => ({ kind: 'instantiate', module: prng.int(-1, modules - 1), keep: prng.chance(0.5) })],
    [10, () => ({ kind: 'nested' })],
    [3, () => ({ kind: 'close' })],
  ])();
}

/** The re-entrant script for `seed`, mixing R's tenants with tenants of the main case's `modules` modules. */
export function generateReentrantCase(seed: number, modules: number): ReentrantCase {
  // Its own stream: the main case's generator is untouched by this one.
  const prng = new Prng((seed ^ 0x5eed_ca11) >>> 0);
  const shape = reentrantShape(prng.fork());
  const memBytes = (shape.memory?.minPages ?? MIN_PAGES) * FUZZ_PAGE;
  const tenants: ReentrantTenant[] = [];
  for (let t = prng.int(3, 8); t > 0; t--) {
    if (modules > 0 && prng.chance(0.35)) {
      tenants.push({ kind: 'plain', module: prng.int(0, modules - 1) });
      continue;
    }
    const steps = prng.int(1, 4);
    const actors = Array.from({ length: steps }, () => actor(prng, modules));
    tenants.push({
      kind: 'reentrant',
      path: prng.pick(['view', 'raw', 'table'] as const),
      // Room for every step's stores at address + 4096 i and + 1.
      address: prng.int(0, memBytes - steps * STEP - 2),
      value: prng.int(1, 255),
      actors,
    });
  }
  return { seed, shape, bytes: emitReentrant(shape), tenants };
}

/** One line for a failure report. */
export function describeActor(a: HostActor): string {
  switch (a.kind) {
    case 'instantiate':
      return `instantiate(module ${a.module < 0 ? 'R' : a.module}, ${a.keep ? 'kept past the run' : 'released inside'})`;
    default:
      return a.kind;
  }
}
