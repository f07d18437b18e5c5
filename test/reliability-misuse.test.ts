/**
 * Misuse and exhaustion, repeated until a leak would show: use after
 * release, double release, a release attempted from another worker thread,
 * an exhausted pool (both policies) and a pool closed with leases out. Each
 * is a typed CowpoolError; afterwards no lease is counted active, no slot is
 * stuck leased, and the process holds no more file descriptors, cowpool
 * mappings or live images than before.
 *
 * A lease cannot really reach another thread: postMessage copies its public
 * fields into a plain object (the private state that makes it a lease stays
 * behind), and release() called on such a copy throws WRONG_OWNER.
 */
import { describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { createPool, RawSlotPool, type PoolConfigInput } from '../src/index.js';
import { collectUntil } from './helpers/forced-gc.js';
import { asyncOutcomeOf, callExport, outcomeOf } from './helpers/instance-state.js';
import { processResources } from './helpers/native-child.js';
import { lastJsonLine, runTsChild, srcUrl } from './helpers/reliability-child.js';
import { watModule } from './helpers/wat-module.js';

const PAGE = 65536;
const ROUNDS = 200;
const WAT = `(module (memory (export "mem") 2 4)
  (data (i32.const 8) "misuse image")
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

const code = (c: string) => ({ threw: `CowpoolError:${c}` });
const HELPER = (name: string): string => new URL(`./helpers/${name}`, import.meta.url).href;

interface Baseline {
  fds: number;
  maps: number;
  images: number;
}

function baseline(): Baseline {
  return { ...processResources(), images: addon().liveImages() };
}

/**
 * Runs `scenario` once to warm up (process-wide handles the reset modes open
 * once, such as /proc/self/pagemap and a userfaultfd, are not leaks), takes
 * the baseline, runs it `times` more, and returns the baseline and what the
 * process settled to. Each run is its own call, so nothing it created stays
 * reachable from a suspended frame here.
 */
async function growthOver(times: number, scenario: () => Promise<void>): Promise<{ before: Baseline; after: Baseline }> {
  await scenario();
  await collectUntil(() => false, 10);
  const before = baseline();
  for (let i = 0; i < times; i++) await scenario();
  return { before, after: await settledTo(before) };
}

/** Waits (collecting garbage) until the process is back to `before`; returns what it ended at. */
async function settledTo(before: Baseline): Promise<Baseline> {
  let now = baseline();
  await collectUntil(() => {
    now = baseline();
    return now.fds <= before.fds && now.maps <= before.maps && now.images <= before.images;
  });
  return now;
}

describe.each(['copy', 'cow', 'fresh'] as const)('strategy %s', (strategy) => {
  const config = (extra: PoolConfigInput = {}): PoolConfigInput => ({ strategy, limits: { maxSlots: 2 }, ...extra });

  it(`use after release and double release: LEASE_RELEASED every time, ${ROUNDS} rounds, nothing leaked`, async () => {
    const { before, after } = await growthOver(3, async () => {
      const pool = createPool(config());
      const prepared = await pool.prepare(await watModule(WAT));
      for (let round = 0; round < ROUNDS; round++) {
        const lease = pool.instantiate(prepared);
        const view = lease.exports;
        const poke = view.poke as (a: number, v: number) => void;
        poke(100, 0x55);
        lease.release();
        expect(outcomeOf(() => lease.release())).toMatchObject(code('LEASE_RELEASED'));
        expect(outcomeOf(() => poke(100, 0x66))).toMatchObject(code('LEASE_RELEASED'));
        expect(outcomeOf(() => view.mem)).toMatchObject(code('LEASE_RELEASED'));
        expect(outcomeOf(() => lease.memory)).toMatchObject(code('LEASE_RELEASED'));
        expect(outcomeOf(() => lease.instance)).toMatchObject(code('LEASE_RELEASED'));
        expect(outcomeOf(() => lease.exports)).toMatchObject(code('LEASE_RELEASED'));
        lease[Symbol.dispose]();
      }
      const next = pool.instantiate(prepared);
      expect(callExport(next.exports, 'peek', 100)).toBe(0);
      next.release();
      const stats = pool.stats();
      expect(stats.leases).toMatchObject({ active: 0, acquired: ROUNDS + 1, released: ROUNDS + 1 });
      expect(stats.slots.byState.leased).toBe(0);
      expect(stats.resetFailures).toBe(0);
      pool.close();
    });
    expect(after).toEqual(before);
  });

  it('an exhausted pool: POOL_EXHAUSTED under both policies, then serves again; nothing leaked', async () => {
    const { before, after } = await growthOver(3, async () => {
      for (const exhausted of [{ policy: 'throw' as const }, { policy: 'wait' as const, timeoutMs: 30 }]) {
        const pool = createPool(config({ exhausted, limits: { maxSlots: 2 } }));
        const prepared = await pool.prepare(await watModule(WAT));
        if (!prepared.pooled) {
          // Plain V8 instantiation has no slots to run out of.
          expect(strategy).toBe('fresh');
          pool.close();
          continue;
        }
        for (let round = 0; round < 10; round++) {
          const held = [pool.instantiate(prepared), pool.instantiate(prepared)];
          expect(outcomeOf(() => pool.instantiate(prepared))).toMatchObject(code('POOL_EXHAUSTED'));
          expect(await asyncOutcomeOf(() => pool.instantiateAsync(prepared))).toMatchObject(code('POOL_EXHAUSTED'));
          for (const lease of held) lease.release();
        }
        expect(pool.stats().exhausted).toBe(20);
        const again = [pool.instantiate(prepared), pool.instantiate(prepared)];
        for (const lease of again) lease.release();
        expect(pool.stats().slots.byState.leased).toBe(0);
        pool.close();
      }
    });
    expect(after).toEqual(before);
  });

  it('a pool closed with leases out: they work until released, everything else is POOL_CLOSED; nothing leaked', async () => {
    const { before, after } = await growthOver(10, async () => {
      const pool = createPool(config({ exhausted: { policy: 'wait', timeoutMs: 5000 } }));
      const prepared = await pool.prepare(await watModule(WAT));
      const out = [pool.instantiate(prepared), pool.instantiate(prepared)];
      const waiter = prepared.pooled ? asyncOutcomeOf(() => pool.instantiateAsync(prepared)) : null;
      pool.close();
      if (waiter !== null) expect(await waiter).toMatchObject(code('POOL_CLOSED'));
      expect(outcomeOf(() => pool.instantiate(prepared))).toMatchObject(code('POOL_CLOSED'));
      for (const lease of out) {
        callExport(lease.exports, 'poke', 9, 0x21);
        expect(callExport(lease.exports, 'peek', 9)).toBe(0x21);
        lease.release();
        expect(outcomeOf(() => lease.release())).toMatchObject(code('LEASE_RELEASED'));
      }
      const stats = pool.stats();
      expect(stats.leases.active).toBe(0);
      expect(stats.slots.total).toBe(0);
    });
    expect(after).toEqual(before);
  });
});

describe('raw slots', () => {
  it('use after release, double release, exhaustion and close with a lease out: typed errors, nothing leaked', async () => {
    const { before, after } = await growthOver(20, async () => {
      for (const closeFirst of [false, true]) {
        const pool = new RawSlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB' }, exhausted: { policy: 'wait', timeoutMs: 10 } });
        const image = pool.image(new Uint8Array([1, 2, 3]));
        const lease = pool.acquire(image, { initialBytes: PAGE });
        const buffer = lease.buffer;
        expect(outcomeOf(() => pool.acquire(null, { initialBytes: PAGE }))).toMatchObject(code('POOL_EXHAUSTED'));
        expect(await asyncOutcomeOf(() => pool.acquireAsync(null, { initialBytes: PAGE }))).toMatchObject(code('POOL_EXHAUSTED'));
        if (closeFirst) {
          pool.close();
          expect(outcomeOf(() => pool.acquire(null, { initialBytes: PAGE }))).toMatchObject(code('POOL_CLOSED'));
          expect(new Uint8Array(lease.buffer)[0]).toBe(1);
          lease.release();
        } else {
          lease.release();
          expect(outcomeOf(() => lease.release())).toMatchObject(code('LEASE_RELEASED'));
          expect(outcomeOf(() => lease.buffer)).toMatchObject(code('LEASE_RELEASED'));
          expect(outcomeOf(() => lease.grow(PAGE))).toMatchObject(code('LEASE_RELEASED'));
          pool.close();
        }
        expect(buffer.byteLength).toBe(0);
        expect(pool.stats().leases.active).toBe(0);
        image.release();
      }
    });
    expect(after).toEqual(before);
  });
});

describe('a release attempted from another worker thread', () => {
  // The worker loads the addon next to the pool's own thread and is then
  // terminated: run in a child process, so a crash there (a native fault in
  // either thread takes the whole process) fails this test, not the runner.
  it('gets a plain copy: it has no release(), and Lease.prototype.release on it throws WRONG_OWNER', async () => {
    const child = await runTsChild(`
      const { once } = await import('node:events');
      const { createPool, SlotPool } = await import(${JSON.stringify(srcUrl('index.ts'))});
      const { startTsWorker } = await import(${JSON.stringify(HELPER('reliability-child.ts'))});
      const { callExport, outcomeOf } = await import(${JSON.stringify(HELPER('instance-state.ts'))});
      const { watModule } = await import(${JSON.stringify(HELPER('wat-module.ts'))});
      const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
      const prepared = await pool.prepare(await watModule(${JSON.stringify(WAT)}));
      const lease = pool.instantiate(prepared);
      const raw = new SlotPool({ limits: { maxSlots: 1, maxMemoryBytesPerSlot: '1MiB' } });
      const rawLease = raw.acquire(null, { initialBytes: ${PAGE} });
      const worker = startTsWorker(\`
        import { parentPort } from 'node:worker_threads';
        const { Lease, RawSlotLease } = await import(${JSON.stringify(srcUrl('index.ts'))});
        parentPort.once('message', ({ lease, rawLease }) => {
          const attempt = (run) => { try { run(); return 'released'; } catch (e) { return e.code ?? e.name; } };
          parentPort.postMessage({
            isLease: lease instanceof Lease,
            releaseType: typeof lease.release,
            viaPrototype: attempt(() => Lease.prototype.release.call(lease)),
            rawReleaseType: typeof rawLease.release,
            rawViaPrototype: attempt(() => RawSlotLease.prototype.release.call(rawLease)),
          });
        });
      \`);
      const online = once(worker, 'online');
      worker.postMessage({ lease, rawLease });
      await online;
      const [fromWorker] = await once(worker, 'message');
      await worker.terminate();
      const out = { fromWorker };
      // The same call in this thread, on a copy, is refused the same way.
      out.copyHere = outcomeOf(() => lease.release.call({ ...lease }));
      // The owner's leases were untouched and release normally.
      out.activeBefore = pool.stats().leases.active;
      out.peek = callExport(lease.exports, 'peek', 8);
      lease.release();
      rawLease.release();
      out.activeAfter = pool.stats().leases.active;
      // What a lease holds cannot be sent at all: a non-shared Memory is not cloneable.
      const next = pool.instantiate(prepared);
      const { port1, port2 } = new MessageChannel();
      out.sendMemory = outcomeOf(() => port1.postMessage(next.memory));
      port1.close();
      port2.close();
      next.release();
      pool.close();
      raw.close();
      console.log(JSON.stringify(out));
    `);
    expect({ status: child.status, signal: child.signal }, child.stderr).toEqual({ status: 0, signal: null });
    const out = lastJsonLine<Record<string, unknown>>(child.stdout);
    expect(out.fromWorker).toEqual({
      isLease: false,
      releaseType: 'undefined',
      viaPrototype: 'WRONG_OWNER',
      rawReleaseType: 'undefined',
      rawViaPrototype: 'WRONG_OWNER',
    });
    expect(out.copyHere).toMatchObject(code('WRONG_OWNER'));
    expect(out.activeBefore).toBe(1);
    expect(out.peek).toBe('m'.charCodeAt(0));
    expect(out.activeAfter).toBe(0);
    expect(out.sendMemory).toMatchObject({ threw: 'DataCloneError' });
  });
});
