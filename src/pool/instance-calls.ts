/**
 * Calls in flight in one instance, and the import wrappers that count them.
 * A slot must not be given back while its instance runs: the rest of the
 * call would write into a memory that is already reset and handed to the
 * next tenant. Wasm code reaches the host only through its imports, so an
 * import on the stack means the instance is on the stack below it, however
 * the call came in (a lease's exports view, `lease.instance.exports`, a
 * function taken out of a table, glue holding the raw exports).
 *
 *   host ──call──► wasm ──import──► guarded(fn): depth 0 → 1 ──► fn ──► lease.release()  → LEASE_IN_CALL
 *                                                depth 1 → 0 ◄──return/throw
 *
 * Invariant: `depth` counts the wrapped calls (imports, exports-view calls)
 *            of this instance entered and not yet left, thrown out of or not.
 * Invariant: one InstanceCalls per instance, shared by every lease of it
 *            (a `reuse` instance serves many leases, one after another).
 */
import { CowpoolError } from '../errors.js';
import type { PreparedModule } from './prepared-module.js';

export class InstanceCalls {
  depth = 0;

  /** Throws LEASE_IN_CALL when a call is in flight; `what` names the give-back refused. */
  assertIdle(what: string): void {
    if (this.depth !== 0) {
      throw new CowpoolError(
        'LEASE_IN_CALL',
        `${what}: the instance is running (called from one of its imports, ${this.depth} call(s) deep); ` +
          'give it back after the outermost call into it has returned, e.g. record the wish in the import and release when the export returns',
      );
    }
  }
}

/** `fn` wrapped so that `calls.depth` counts the calls in flight; a throw still decrements. */
function guarded(fn: (...args: unknown[]) => unknown, calls: InstanceCalls): (...args: unknown[]) => unknown {
  return function guardedImport(this: unknown): unknown {
    calls.depth += 1;
    try {
      // `arguments` rather than a rest parameter: no array per call.
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(fn, this, arguments);
    } finally {
      calls.depth -= 1;
    }
  };
}

/** JSPI's import marker, where the engine has one (Node 24+); read when needed, only for imports that are not functions. */
function suspendingClass(): (abstract new (...args: never[]) => object) | undefined {
  return (WebAssembly as unknown as { Suspending?: abstract new (...args: never[]) => object }).Suspending;
}

/**
 * The imports an instance of `prepared` is linked with: every import the
 * module declares, read once from `imports`, function imports wrapped to
 * count on `calls`, and `memory` (when given) as the pool's memory import.
 * Only declared imports are copied: V8 reads nothing else. A value V8 would
 * refuse (not callable, a missing module object) is passed through as it is,
 * so the link error is V8's own.
 *
 * @throws CowpoolError SUSPENDING_IMPORT for a `WebAssembly.Suspending`
 *         import: a suspended instance leaves the stack with its call still
 *         open, and no count can see when it resumes.
 */
export function guardImports(prepared: PreparedModule, imports: WebAssembly.Imports, calls: InstanceCalls, memory: WebAssembly.Memory | null): WebAssembly.Imports {
  // Prototype-free: a module or field named `__proto__` is a plain key here.
  const linked = Object.create(null) as Record<string, Record<string, unknown>>;
  const target = prepared.memoryImport;
  if (memory !== null && target !== null) (linked[target.module] = Object.create(null) as Record<string, unknown>)[target.name] = memory;
  for (const entry of prepared.layout.imports) {
    if (memory !== null && target !== null && entry.kind === 'memory' && entry.module === target.module && entry.name === target.name) continue;
    const source = imports[entry.module] as Record<string, unknown> | null | undefined;
    if (source === undefined || source === null || (typeof source !== 'object' && typeof source !== 'function')) {
      if (!(entry.module in linked)) (linked as Record<string, unknown>)[entry.module] = source;
      continue;
    }
    const value = source[entry.name];
    const into = (linked[entry.module] ??= Object.create(null) as Record<string, unknown>);
    if (entry.kind === 'function' && typeof value === 'function') {
      into[entry.name] = guarded(value as (...args: unknown[]) => unknown, calls);
    } else {
      const Suspending = typeof value === 'object' && value !== null ? suspendingClass() : undefined;
      if (Suspending !== undefined && value instanceof Suspending) {
        throw new CowpoolError(
          'SUSPENDING_IMPORT',
          `import ${JSON.stringify(entry.module)}.${JSON.stringify(entry.name)} of ${prepared.name} is a WebAssembly.Suspending (JSPI): ` +
            'an instance served by the pool must not suspend, since its slot could be given back while it is suspended; ' +
            'pass a synchronous function, or run the module outside the pool',
        );
      }
      into[entry.name] = value;
    }
  }
  return linked as WebAssembly.Imports;
}
