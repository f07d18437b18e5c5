/**
 * A stand-in for the library entry that leaks on purpose, for the soak test to
 * prove it notices growth: every lease released through a pool made by this
 * createPool leaves one file descriptor open (a duplicate of stdin's target).
 */
import { openSync } from 'node:fs';
import { createPool as realCreatePool, type InstancePool, type PoolConfigInput } from '../../src/index.js';

export { RawSlotPool } from '../../src/index.js';
export { emitModule } from '../../src/fuzz/emit-module.js';

export function createPool(config: PoolConfigInput): InstancePool {
  const pool = realCreatePool(config);
  const instantiate = pool.instantiate.bind(pool);
  pool.instantiate = ((prepared: Parameters<InstancePool['instantiate']>[0], imports: Parameters<InstancePool['instantiate']>[1]) => {
    const lease = instantiate(prepared, imports);
    const release = lease.release.bind(lease);
    lease.release = () => {
      openSync('/dev/null', 'r');
      release();
    };
    return lease;
  }) as InstancePool['instantiate'];
  return pool;
}
