/**
 * The snapshot differential: one SnapshotCase run on one target (strategy and
 * reset mode) side by side with the reference, a plain V8 instance of the
 * original module after its start function and the same initializer.
 *
 *   reference: new Instance ──► init (+ host write) ──► observe R0 ──► scribble ──► observe R1
 *   target:    prepare({ initialize }) ──► tenant × 3 in one slot: observe = R0, scribble, observe = R1, release
 *
 * A trap in start or init must make prepare fail with INSTANTIATE_FAILED;
 * no case may be refused (the generator makes no state a snapshot cannot hold).
 */
import { createHash } from 'node:crypto';
import { isCowpoolError } from '../errors.js';
import { RESET_MODES, type ResetMode, type Strategy } from '../config/pool-config-schema.js';
import { InstancePool } from '../pool/instance-pool.js';
import type { PreparedModule } from '../pool/prepared-module.js';
import type { InitializeOptions } from '../snapshot/initialize-options.js';
import { emitSnapshotCase, note, type SnapshotCase } from './snapshot-case.js';
import { thrownDescription } from './run-action.js';

export interface SnapshotTarget {
  name: string;
  strategy: Strategy;
  mode: ResetMode;
}

/**
 * fresh, copy, and cow and reuse under every reset mode. `reuse` keeps its
 * instance only for modules whose rewind is exact (reuse-eligibility.ts; a
 * global starting as a NaN, whose payload JS cannot put back, drops the
 * instance too), so its tenants must match the reference like the others.
 */
export const SNAPSHOT_TARGETS: readonly SnapshotTarget[] = [
  { name: 'fresh', strategy: 'fresh', mode: 'madvise' },
  { name: 'copy', strategy: 'copy', mode: 'madvise' },
  ...RESET_MODES.map((mode) => ({ name: `cow/${mode}`, strategy: 'cow' as const, mode })),
  ...RESET_MODES.map((mode) => ({ name: `reuse/${mode}`, strategy: 'reuse' as const, mode })),
];

export const SNAPSHOT_TENANTS = 3;

type Exports = Record<string, unknown>;

function describe(value: unknown): unknown {
  if (typeof value === 'function') return `func:${(value as { name: string }).name}`;
  if (typeof value === 'bigint') return `${value}n`;
  return value;
}

function attempt(run: () => unknown): string {
  try {
    return `ok ${String(describe(run()))}`;
  } catch (e) {
    return `threw ${e instanceof Error ? e.name : typeof e}`;
  }
}

/** Everything a tenant can see of the instance, as one comparable string. */
export function observeSnapshotState(exports: Exports, c: SnapshotCase): string {
  const parts: string[] = [];
  if (c.memory !== null) {
    const bytes = new Uint8Array((exports.mem as WebAssembly.Memory).buffer);
    parts.push(`memory ${bytes.length / 65536} pages ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`);
  }
  c.globals.forEach((g, i) => parts.push(`g${i} ${g.type} ${attempt(() => (exports[`g${i}`] as () => unknown)())}`));
  c.tables.forEach((_, i) => {
    const table = exports[`t${i}`] as WebAssembly.Table;
    const entries: unknown[] = [];
    for (let k = 0; k < table.length; k++) entries.push(describe(table.get(k)));
    parts.push(`t${i} [${entries.join(',')}]`);
  });
  if (c.memory !== null) c.passiveData.forEach((_, i) => parts.push(`pd${i} ${attempt(() => (exports[`pd${i}`] as () => void)())}`));
  if (c.tables.length > 0) c.passiveElems.forEach((_, i) => parts.push(`pe${i} ${attempt(() => (exports[`pe${i}`] as () => void)())}`));
  return parts.join('\n');
}

function initializeOf(c: SnapshotCase): InitializeOptions {
  const imports = { env: { note } };
  const write = c.hostWrite;
  if (write === null) return { export: 'init', imports };
  return {
    imports,
    run: (instance, memory) => {
      (instance.exports.init as () => void)();
      new Uint8Array(memory!.buffer).set(write.bytes, write.address);
      return { wrote: write.bytes.length };
    },
  };
}

function importedMemoryFor(c: SnapshotCase, initial = c.memory?.min ?? 0): WebAssembly.Memory | null {
  if (c.memory?.imported !== true) return null;
  const descriptor: WebAssembly.MemoryDescriptor = { initial };
  if (c.memory.max !== null) descriptor.maximum = c.memory.max;
  return new WebAssembly.Memory(descriptor);
}

interface Reference {
  /** Null when start or the initializer trapped. */
  initial: string | null;
  scribble: string;
  after: string;
  failedWith: string | null;
}

async function reference(bytes: Uint8Array, c: SnapshotCase): Promise<Reference> {
  const memory = importedMemoryFor(c);
  const imports: WebAssembly.Imports = { env: { note, ...(memory === null ? {} : { memory }) } };
  let exports: Exports;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as Exports;
    const init = initializeOf(c);
    if (init.export !== undefined) (exports[init.export] as () => void)();
    else await init.run!({ exports: exports as WebAssembly.Exports }, memory ?? (exports.mem as WebAssembly.Memory));
  } catch (e) {
    return { initial: null, scribble: '', after: '', failedWith: thrownDescription(e) };
  }
  const initial = observeSnapshotState(exports, c);
  const scribble = attempt(() => (exports.scribble as () => void)());
  return { initial, scribble, after: observeSnapshotState(exports, c), failedWith: null };
}

export interface SnapshotRun {
  target: string;
  tenants: number;
  /** What differed, or null. */
  failure: string | null;
}

function firstDifferentLine(expected: string, actual: string): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) return `expected "${e[i] ?? '(nothing)'}", got "${a[i] ?? '(nothing)'}"`;
  }
  return 'no difference';
}

/** Runs `c` on every target in `targets`. */
export async function runSnapshotCase(c: SnapshotCase, targets: readonly SnapshotTarget[] = SNAPSHOT_TARGETS): Promise<SnapshotRun[]> {
  const bytes = emitSnapshotCase(c);
  const ref = await reference(bytes, c);
  const runs: SnapshotRun[] = [];
  for (const target of targets) runs.push(await runTarget(bytes, c, ref, target));
  return runs;
}

async function runTarget(bytes: Uint8Array, c: SnapshotCase, ref: Reference, target: SnapshotTarget): Promise<SnapshotRun> {
  const pool = new InstancePool({ strategy: target.strategy, limits: { maxSlots: 1 }, reset: { mode: target.mode } });
  const fail = (tenants: number, failure: string): SnapshotRun => ({ target: target.name, tenants, failure });
  try {
    let prepared: PreparedModule;
    try {
      prepared = await pool.prepare(bytes, { initialize: initializeOf(c), name: `snapshot case ${c.seed}` });
    } catch (e) {
      if (ref.failedWith !== null && isCowpoolError(e, 'INSTANTIATE_FAILED')) return { target: target.name, tenants: 0, failure: null };
      return fail(0, `prepare threw ${thrownDescription(e)}${ref.failedWith === null ? ' but the reference initialized' : ` (the reference: ${ref.failedWith})`}`);
    }
    if (ref.failedWith !== null) return fail(0, `prepare succeeded but the reference failed: ${ref.failedWith}`);
    for (let tenant = 0; tenant < SNAPSHOT_TENANTS; tenant++) {
      try {
        const failure = runTenant(pool, prepared, c, ref, tenant);
        if (failure !== null) return fail(tenant, failure);
      } catch (e) {
        return fail(tenant, `tenant ${tenant} threw ${thrownDescription(e)}`);
      }
    }
    if (pool.stats().resetFailures > 0) return fail(SNAPSHOT_TENANTS, 'a reset failed');
    return { target: target.name, tenants: SNAPSHOT_TENANTS, failure: null };
  } finally {
    pool.close();
  }
}

/** One tenant: its start state, its scribble and the state after, against the reference; the difference or null. */
function runTenant(pool: InstancePool, prepared: PreparedModule, c: SnapshotCase, ref: Reference, tenant: number): string | null {
  const imports: WebAssembly.Imports = { env: { note } };
  if (!prepared.pooled && c.memory?.imported === true) {
    // Plain instances of a module importing its memory get it from the tenant, at least the snapshot's size.
    imports.env!.memory = importedMemoryFor(c, prepared.layout.memory!.initialPages)!;
  }
  const lease = pool.instantiate(prepared, imports);
  try {
    const exports = lease.exports;
    const initial = observeSnapshotState(exports, c);
    if (initial !== ref.initial) return `tenant ${tenant} starts in another state: ${firstDifferentLine(ref.initial!, initial)}`;
    const scribble = attempt(() => (exports.scribble as () => void)());
    if (scribble !== ref.scribble) return `tenant ${tenant} scribble: expected ${ref.scribble}, got ${scribble}`;
    const after = observeSnapshotState(exports, c);
    if (after !== ref.after) return `tenant ${tenant} after scribble: ${firstDifferentLine(ref.after, after)}`;
    return null;
  } finally {
    lease.release();
  }
}
