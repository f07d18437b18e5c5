/**
 * A snapshot initializer for a WASI reactor: `prepare(bytes, { initialize:
 * wasiReactorInitializer('load_data') })` runs the reactor convention
 * (`_initialize`, the C runtime's constructors, when exported) and then the
 * named export on a WASI host of its own; the instance after that is the
 * snapshot every tenant starts from. What the initializer printed is
 * discarded; an export that is missing, throws, or returns a non-zero
 * number fails the prepare. One initializer serves one prepare.
 */
import type { InitializeOptions, InitializingInstance } from '../snapshot/initialize-options.js';
import { wasiHost } from './run-wasi.js';
import type { WasiOptions } from './wasi-options.js';

export function wasiReactorInitializer(exportName: string, options: WasiOptions = {}): InitializeOptions {
  const session = wasiHost({ args: [exportName], ...options });
  return {
    imports: session.imports as unknown as WebAssembly.Imports,
    run: (instance: InitializingInstance, memory: WebAssembly.Memory | null): null => {
      try {
        session.initialize(instance.exports, memory ?? undefined);
        const init = instance.exports[exportName];
        if (typeof init !== 'function') throw new Error(`the module exports no function "${exportName}" to initialize with`);
        const rc: unknown = (init as () => unknown)();
        if (typeof rc === 'number' && rc !== 0) throw new Error(`"${exportName}" returned ${rc}`);
      } finally {
        session.finish();
      }
      return null;
    },
  };
}
