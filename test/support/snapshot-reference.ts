/**
 * The reference a snapshot tenant is compared with: a plain
 * `new WebAssembly.Instance` of the original module (its start function runs),
 * then the same initializer — what the `fresh` strategy would do without a
 * snapshot. And one observation of an instance: its exported state plus the
 * outcome of each no-argument probe export, in order.
 */
import type { InitializeOptions } from '../../src/index.js';
import { describeValue, instanceState, outcomeOf, type InstanceState, type Outcome } from '../helpers/instance-state.js';

export interface Observation {
  state: InstanceState;
  probes: Record<string, Outcome>;
}

/** A memory the module imports, created as the pool creates it (initial and maximum as declared). */
function importedMemory(module: WebAssembly.Module, bytes: Uint8Array): { module: string; name: string; memory: WebAssembly.Memory } | null {
  const entry = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory');
  if (entry === undefined) return null;
  // The limits are not in the JS API's description: read them from the import entry (tests use small modules).
  const descriptor = memoryLimitsOf(bytes);
  return { module: entry.module, name: entry.name, memory: new WebAssembly.Memory(descriptor) };
}

/** Limits of the first memory import, found by the text-format tests' only memory import. */
function memoryLimitsOf(bytes: Uint8Array): WebAssembly.MemoryDescriptor {
  // Lazy import so the parser is only loaded when needed.
  const info = parseModuleSync(bytes);
  const m = info.memories[0]!;
  const d: WebAssembly.MemoryDescriptor = { initial: m.limits.initial };
  if (m.limits.maximum !== null) d.maximum = m.limits.maximum;
  return d;
}

import { parseModule as parseModuleSync } from '../../src/wasm/parse-module.js';

/** A plain instance of `bytes` after start and `initialize` ran, with what the initializer returned. */
export async function referenceInstance(
  bytes: Uint8Array,
  initialize: InitializeOptions,
): Promise<{ exports: Record<string, unknown>; module: WebAssembly.Module; initialized: unknown; memory: WebAssembly.Memory | null }> {
  const module = new WebAssembly.Module(bytes);
  const imports: WebAssembly.Imports = { ...initialize.imports };
  const imported = importedMemory(module, bytes);
  if (imported !== null) imports[imported.module] = { ...imports[imported.module], [imported.name]: imported.memory };
  const instance = new WebAssembly.Instance(module, imports);
  const exports = instance.exports as Record<string, unknown>;
  const memory = imported?.memory ?? (Object.values(exports).find((v) => v instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined) ?? null;
  let initialized: unknown;
  if (initialize.export !== undefined) (exports[initialize.export] as () => void)();
  else initialized = await initialize.run!({ exports: instance.exports }, memory);
  return { exports, module, initialized, memory };
}

/** The state of `exports` (exports of `module`) and then the outcome of every probe, in order. */
export function observe(exports: Record<string, unknown>, module: WebAssembly.Module, probes: readonly string[]): Observation {
  const state = instanceState(exports, module);
  const out: Record<string, Outcome> = {};
  for (const name of probes) {
    out[name] = outcomeOf(() => describeValue((exports[name] as () => unknown)()));
  }
  return { state, probes: out };
}
