/**
 * cowpool — copy-on-write WebAssembly instance pooling for Node.js on Linux.
 * This file is the package's only public entry.
 */
export { CowpoolError, ERROR_CODES, isCowpoolError } from './errors.js';
export type { CowpoolErrorCode, ConfigIssue } from './errors.js';

export { loadConfig, loadRawSlotPoolConfig, parseConfig, parseRawSlotPoolConfig } from './config/load-config.js';
export { PoolConfigSchema, RawSlotPoolConfigSchema, RESET_MODES, STRATEGIES } from './config/pool-config-schema.js';
export type {
  PoolConfig,
  PoolConfigInput,
  RawSlotPoolConfig,
  RawSlotPoolConfigInput,
  ResetMode,
  Strategy,
} from './config/pool-config-schema.js';

export { createPool, InstancePool } from './pool/instance-pool.js';
export type { EmscriptenHook, Imports, PoolStats, Reservation } from './pool/instance-pool.js';
export { Lease } from './pool/lease.js';
export { PreparedModule } from './pool/prepared-module.js';
export type { PoolFallbackReason, PrepareOptions } from './pool/prepared-module.js';
export type { HostContext, HostFactory, InstantiateOptions } from './pool/host-context.js';
export type { InitializeOptions, InitializeRun, InitializingInstance } from './snapshot/initialize-options.js';
export type { SnapshotReport } from './snapshot/snapshot-report.js';

export { RawSlotPool, SlotPool } from './pool/raw-slot-pool.js';
export type { RawAcquireOptions, RawSlotPoolStats, SlotPoolStats } from './pool/raw-slot-pool.js';
export { RawSlotLease } from './pool/raw-slot-lease.js';
export { PoolImage } from './pool/pool-image.js';

export { prepareLayout } from './wasm/prepare-layout.js';
export type { FallbackReason, PreparedLayout } from './wasm/prepared-layout.js';

export type { SlotState } from './slots/slot-state.js';

export { LazyFuncTable } from './table/lazy-func-table.js';
export { EagerFuncTable } from './table/eager-func-table.js';
export type { ElementInit, FuncTable } from './table/element-segments.js';

export { runWasi, wasiHost } from './host/run-wasi.js';
export { wasiReactorInitializer } from './host/wasi-reactor-initializer.js';
export type { RunWasiOptions, WasiModuleSource, WasiSession } from './host/run-wasi.js';
export { runWasiInPool } from './host/pool-run-wasi.js';
// Loaded for its effect too: it installs the runner pool.runWasi uses (see src/pool/wasi-runner.ts).
export { wasiSlotHost } from './host/wasi-slot-host.js';
export type { WasiPool } from './host/pool-run-wasi.js';
export { IMPLEMENTED_CALLS, WasiHost } from './host/wasi-host.js';
export type { WasiImports } from './host/wasi-host.js';
export { DEFAULT_OUTPUT_CAP } from './host/wasi-options.js';
export type { WasiOptions } from './host/wasi-options.js';
export type { WasiResult, WasiRun } from './host/wasi-run.js';
export { WasiExit } from './host/wasi-exit.js';
export { MemorySymlink } from './host/memory-tree.js';
export type { MemoryDirectory } from './host/memory-tree.js';
export {
  faultsTo,
  GuestFault,
  guestBytes,
  guestView,
  readBytes,
  readString,
  readU32,
  writeBytes,
  writeString,
  writeU32,
  writeU64,
} from './host/guest-memory.js';
export type { MemoryContext } from './host/guest-memory.js';

// The bench harness (and tinybench with it) is a tool, not part of the
// library: it is the `cowpool/bench` subpath (src/bench/index.ts).
