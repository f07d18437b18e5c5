import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { createPool } from '../src/pool/instance-pool.js';
import { watModule } from './helpers/wat-module.js';

afterEach(() => addon().injectFault(null));

describe('reuse: a slot whose memory is retired while acquiring', () => {
  it('counts the retirement and links the next tenant to the new memory', async () => {
    const pool = createPool({ strategy: 'reuse', reset: { mode: 'madvise' }, limits: { maxSlots: 1 } });
    try {
      const prepared = await pool.prepare(await watModule(`(module (memory (export "memory") 1) (data (i32.const 0) "A")
        (func (export "get") (result i32) (i32.load8_u (i32.const 0)))
        (func (export "put") (param i32) (i32.store8 (i32.const 0) (local.get 0))))`));
      const first = pool.instantiate(prepared);
      (first.exports.put as (v: number) => void)(0x5a);
      const firstMemory = first.memory;
      addon().injectFault('madvise', 0, 1, 'EIO');
      first.release(); // reset fails: the slot is unknown
      expect(pool.stats().resetFailures).toBe(1);
      addon().injectFault('mmap', 0, 1, 'ENOMEM'); // the full reset fails too: the memory is retired
      const second = pool.instantiate(prepared);
      try {
        expect(pool.stats().retired).toBe(1);
        expect(second.memory).not.toBe(firstMemory);
        // The instance must be linked to the memory the lease reports.
        expect(second.instance.exports.memory).toBe(second.memory);
        expect((second.exports.get as () => number)()).toBe('A'.charCodeAt(0));
      } finally {
        second.release();
      }
    } finally {
      pool.close();
    }
  });
});
