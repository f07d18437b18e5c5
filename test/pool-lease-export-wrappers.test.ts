/**
 * The functions `lease.exports` hands out behave like the instance's own:
 * named after the export, returning what the raw
 * export returns for any number of arguments (missing ones are undefined,
 * extra ones ignored), and refusing every call once the lease is released.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/pool/instance-pool.js';
import { outcomeOf } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

/** `sumN` sums its N i32 parameters times 1, 10, 100, ... so each argument's position shows. */
function sumOf(n: number): string {
  const params = Array.from({ length: n }, () => '(param i32)').join(' ');
  let body = '(i32.const 0)';
  for (let i = 0; i < n; i++) body = `(i32.add ${body} (i32.mul (local.get ${i}) (i32.const ${10 ** i})))`;
  return `(func (export "sum${n}") ${params} (result i32) ${body})`;
}
const ARITIES = [0, 1, 2, 3, 4, 6];
const WAT = `(module (memory (export "mem") 1) ${ARITIES.map(sumOf).join(' ')})`;

type Fn = (...args: unknown[]) => unknown;

describe('lease.exports functions', () => {
  it('take the export\'s name and return what the raw export returns for any argument count', async () => {
    const pool = createPool({ strategy: 'cow', limits: { maxSlots: 1 } });
    const prepared = await pool.prepare(await watModule(WAT));
    const lease = pool.instantiate(prepared);
    const raw = lease.instance.exports;
    for (const n of ARITIES) {
      const name = `sum${n}`;
      const wrapped = lease.exports[name] as Fn;
      expect(wrapped.name).toBe(name);
    }
    fc.assert(
      fc.property(fc.constantFrom(...ARITIES), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 }), (n, args) => {
        const name = `sum${n}`;
        expect((lease.exports[name] as Fn)(...args)).toBe((raw[name] as Fn)(...args));
      }),
    );
    const taken = ARITIES.map((n) => lease.exports[`sum${n}`] as Fn);
    lease.release();
    for (const fn of taken) {
      expect(outcomeOf(() => fn())).toMatchObject({ threw: 'CowpoolError:LEASE_RELEASED' });
      expect(outcomeOf(() => fn(1, 2, 3))).toMatchObject({ threw: 'CowpoolError:LEASE_RELEASED' });
    }
    pool.close();
  });
});
