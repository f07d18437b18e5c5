/**
 * `pool.prepare(bytes)` reads exactly the bytes a Uint8Array, Buffer,
 * ArrayBuffer or any other ArrayBuffer view covers (offset and length
 * honoured), and refuses anything else as INVALID_ARGUMENT — a caller's
 * mistake, not a malformed module.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../src/index.js';
import { asyncOutcomeOf, callExport } from './helpers/instance-state.js';
import { watModule } from './helpers/wat-module.js';

const WAT = `(module (memory 1) (data (i32.const 0) "\\2a")
  (func (export "answer") (result i32) (i32.load8_u (i32.const 0))))`;

describe('pool.prepare', () => {
  it('accepts every kind of byte container and reads only the bytes it covers', async () => {
    const bytes = await watModule(WAT);
    const padded = new Uint8Array(bytes.length + 16).fill(0xff);
    padded.set(bytes, 8);
    const own = bytes.slice().buffer;
    const inputs: Record<string, unknown> = {
      Uint8Array: bytes,
      Buffer: Buffer.from(bytes),
      ArrayBuffer: own,
      'Uint8Array at an offset': padded.subarray(8, 8 + bytes.length),
      'DataView at an offset': new DataView(padded.buffer, 8, bytes.length),
      Int8Array: new Int8Array(own),
    };
    const pool = createPool({ limits: { maxSlots: 2 } });
    for (const [kind, input] of Object.entries(inputs)) {
      const prepared = await pool.prepare(input as Uint8Array);
      expect(prepared.pooled, kind).toBe(true);
      const lease = pool.instantiate(prepared);
      expect(callExport(lease.exports, 'answer'), kind).toBe(42);
      lease.release();
    }
    pool.close();
  });

  it.each([['a string', 'wasm'], ['a number', 42], ['null', null], ['a plain array', [0, 97, 115, 109]]])(
    'refuses %s with INVALID_ARGUMENT naming what it wants',
    async (_kind, input) => {
      const pool = createPool();
      const outcome = await asyncOutcomeOf(() => pool.prepare(input as unknown as Uint8Array));
      expect(outcome).toMatchObject({ threw: 'CowpoolError:INVALID_ARGUMENT' });
      expect((outcome as { message: string }).message).toMatch(/prepare\(bytes\): bytes must be a Uint8Array, Buffer, ArrayBuffer/);
      pool.close();
    },
  );
});
