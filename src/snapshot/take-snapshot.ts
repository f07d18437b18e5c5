/**
 * The snapshot, start to end: from module bytes and an initializer to the
 * bytes of a module whose plain instantiation is the initialized instance.
 *
 *   bytes ──parse──► checks ──instrument──► run start + initializer ──read back──► emit ──validate──► snapshot bytes
 *
 * The result goes through the pool's ordinary prepare path, so every strategy
 * and reset mode serves it, and every reset restores the snapshot.
 */
import { engineAccepts, engineRejection } from '../wasm/engine-validation.js';
import { parseModule } from '../wasm/parse-module.js';
import { CowpoolError } from '../errors.js';
import { captureInstance } from './capture-instance.js';
import { resolveInitialize } from './initialize-options.js';
import { instrumentModule } from './instrumented-module.js';
import { checkSnapshotShape } from './snapshot-shape.js';
import { emitSnapshotModule } from './snapshot-module.js';
import { snapshotReport, type SnapshotReport } from './snapshot-report.js';
import { snapshotUnsupported } from './snapshot-unsupported.js';

export interface Snapshot {
  /** The snapshot module: no start function, state in its initialisers and segments. */
  bytes: Uint8Array;
  /** What the initializer returned, cloned. */
  initialized: unknown;
  report: SnapshotReport;
}

/**
 * Runs the initialization described by `initialize` (the `initialize` option
 * of prepare) on `bytes` and returns the snapshot module.
 * @throws INVALID_WASM, INVALID_ARGUMENT, INSTANTIATE_FAILED (the module or the initializer failed),
 *         SNAPSHOT_UNSUPPORTED (the state cannot be reproduced exactly).
 */
export async function takeSnapshot(bytes: Uint8Array, initialize: unknown, moduleName: string): Promise<Snapshot> {
  const resolved = resolveInitialize(initialize);
  const info = parseModule(bytes);
  if (!engineAccepts(bytes)) {
    throw new CowpoolError('INVALID_WASM', `${moduleName}: not a valid module: the engine rejects it (${engineRejection(bytes).reason})`);
  }
  checkSnapshotShape(bytes, info, moduleName);
  const instrumentation = instrumentModule(bytes, info);
  const { state, initialized } = await captureInstance(info, instrumentation, resolved, moduleName);
  const snapshot = emitSnapshotModule(bytes, info, state, moduleName);
  if (!engineAccepts(snapshot)) {
    throw snapshotUnsupported(moduleName, `the snapshot module does not validate (${engineRejection(snapshot).reason}); this is a cowpool bug, please report it with the module`);
  }
  return { bytes: snapshot, initialized, report: snapshotReport(info, state, snapshot.length) };
}
