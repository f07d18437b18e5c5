/**
 * The `reuse` strategy hands its kept instance only to a tenant linking the
 * same import values; a tenant with other host functions gets a new
 * instance, so its calls never reach the previous tenant's functions.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.js';
import { callExport } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module
  (import "env" "host" (func $host (result i32)))
  (import "env" "base" (global $base i32))
  (memory 1)
  (func (export "ask") (result i32) (i32.add (call $host) (global.get $base))))`;

describe('strategy reuse', () => {
  it('a tenant passing other host functions gets its own instance and reaches only its own functions', async () => {
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const seen: string[] = [];
    const tenantA = { env: { host: () => (seen.push('A'), 1), base: 0 } };
    const tenantB = { env: { host: () => (seen.push('B'), 2), base: 0 } };

    const a = pool.instantiate(prepared, tenantA);
    const instanceA = a.instance;
    expect(callExport(a.exports, 'ask')).toBe(1);
    a.release();

    const b = pool.instantiate(prepared, tenantB);
    expect(callExport(b.exports, 'ask')).toBe(2);
    expect(b.instance).not.toBe(instanceA);
    b.release();

    const c = pool.instantiate(prepared, { env: { host: tenantA.env.host, base: 10 } });
    expect(callExport(c.exports, 'ask')).toBe(11);
    c.release();
    expect(seen).toEqual(['A', 'B', 'A']);
    // Still the one slot throughout.
    expect(pool.stats().affinity).toEqual({ hits: 2, cold: 1, evicted: 0 });
    pool.close();
  });

  it('a tenant passing the same values (in new import objects) gets the kept instance', async () => {
    const pool = createPool({ strategy: 'reuse', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const host = (): number => 5;
    const a = pool.instantiate(prepared, { env: { host, base: 1 } });
    const kept = a.instance;
    a.release();
    const b = pool.instantiate(prepared, { env: { host, base: 1 } });
    expect(b.instance).toBe(kept);
    expect(callExport(b.exports, 'ask')).toBe(6);
    b.release();
    pool.close();
  });
});
