/**
 * The refusal every snapshot step uses when the initialized state cannot be
 * reproduced exactly: a typed error naming what and where, never a tenant
 * that differs silently.
 */
import { CowpoolError } from '../errors.js';

export function snapshotUnsupported(moduleName: string, what: string): CowpoolError {
  return new CowpoolError(
    'SNAPSHOT_UNSUPPORTED',
    `${moduleName}: cannot snapshot the initialized instance: ${what}. ` +
      'Prepare the module without `initialize` (tenants then run the initializer themselves), or change the initializer so it leaves no such state.',
  );
}
