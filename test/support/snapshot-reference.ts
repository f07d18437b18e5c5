/**
 * The reference a snapshot tenant is compared with: a plain
 * `new WebAssembly.Instance` of the original module (its start function runs),
 * then the same initializer — what the `fresh` strategy would do without a
 * snapshot. And one observation of an instance: its exported state plus the
 * outcome of each no-argument probe export, in order.
 */
import type { InitializeOptions } from '../../src/index.js';
import { parseModule } from '../../src/wasm/parse-module.js';
import { describeValue, instanceState, outcomeOf, type InstanceState, type Outcome } from '../helpers/instance-state.js';

export interface Observation {
  state: InstanceState;
  probes: Record<string, Outcome>;
}

/** A memory the module imports, created as the pool creates it (initial and maximum as declared). */
function importedMemory(module: WebAssembly.Module, bytes: Uint8Array): { module: string; name: string; memory: WebAssembly.Memory } | null {
  const entry = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory');
  if (entry === undefined) return null;
  // The JS API does not describe an import's limits; the parse does.
  const limits = parseModule(bytes).memories[0]!.limits;
  const descriptor: WebAssembly.MemoryDescriptor = { initial: limits.initial };
  if (limits.maximum !== null) descriptor.maximum = limits.maximum;
  return { module: entry.module, name: entry.name, memory: new WebAssembly.Memory(descriptor) };
}

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
