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
 * Invariant: one InstanceCalls per pooled slot memory, shared by every
 *            instance made on it and every lease of them, one after another
 *            (a tenant can only release once the count is back to 0); a
 *            plain instance has its own.
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
        `${what}: the instance is running (${this.depth} call(s) into it under way; this was reached from inside one, e.g. a host import); ` +
          'release after the outermost call has returned, e.g. note the wish in the import and release once the export returns',
      );
    }
  }
}

type HostFunction = (...args: unknown[]) => unknown;

/**
 * `fn` wrapped so that `calls.depth` counts the calls in flight; a throw
 * still decrements. Wasm passes exactly its signature's arguments and no
 * `this`; when their number is `fn.length` (the usual case) the wrapper calls
 * `fn` directly, which V8 makes nearly as cheap as calling `fn` itself, and
 * otherwise passes `arguments` on as they are. No array is made per call.
 */
/* eslint-disable prefer-rest-params */
function guarded(fn: HostFunction, calls: InstanceCalls): HostFunction {
  switch (fn.length) {
    case 0:
      return function guardedImport(): unknown {
        calls.depth += 1;
        try {
          return arguments.length === 0 ? fn() : Reflect.apply(fn, undefined, arguments);
        } finally {
          calls.depth -= 1;
        }
      };
    case 1:
      return function guardedImport(a: unknown): unknown {
        calls.depth += 1;
        try {
          return arguments.length === 1 ? fn(a) : Reflect.apply(fn, undefined, arguments);
        } finally {
          calls.depth -= 1;
        }
      } as HostFunction;
    case 2:
      return function guardedImport(a: unknown, b: unknown): unknown {
        calls.depth += 1;
        try {
          return arguments.length === 2 ? fn(a, b) : Reflect.apply(fn, undefined, arguments);
        } finally {
          calls.depth -= 1;
        }
      } as HostFunction;
    case 3:
      return function guardedImport(a: unknown, b: unknown, c: unknown): unknown {
        calls.depth += 1;
        try {
          return arguments.length === 3 ? fn(a, b, c) : Reflect.apply(fn, undefined, arguments);
        } finally {
          calls.depth -= 1;
        }
      } as HostFunction;
    case 4:
      return function guardedImport(a: unknown, b: unknown, c: unknown, d: unknown): unknown {
        calls.depth += 1;
        try {
          return arguments.length === 4 ? fn(a, b, c, d) : Reflect.apply(fn, undefined, arguments);
        } finally {
          calls.depth -= 1;
        }
      } as HostFunction;
    default:
      return function guardedImport(): unknown {
        calls.depth += 1;
        try {
          return Reflect.apply(fn, undefined, arguments);
        } finally {
          calls.depth -= 1;
        }
      };
  }
}
/* eslint-enable prefer-rest-params */

/**
 * The values `imports` supplies for each of the module's imports, in order,
 * leaving out the memory the pool supplies itself (each read once). What
 * guardImports links, and what `reuse` compares to keep an instance.
 *
 * `known` (an earlier result for the same `prepared`): returned itself when
 * every value read is the same as in it, so a tenant linking what the last
 * one linked costs no array. Values are still read once each.
 */
export function importValues(prepared: PreparedModule, imports: WebAssembly.Imports, known?: readonly unknown[]): unknown[] {
  const memory = prepared.memoryImport;
  const entries = prepared.layout.imports;
  let values: unknown[] | null = null;
  let i = 0;
  for (let e = 0; e < entries.length; e++) {
    const entry = entries[e]!;
    if (memory !== null && entry.kind === 'memory' && entry.module === memory.module && entry.name === memory.name) continue;
    const value = imports[entry.module]?.[entry.name];
    if (values !== null) values.push(value);
    else if (known === undefined || i >= known.length || !Object.is(known[i], value)) {
      // The first difference: what came before it is `known`'s.
      values = known === undefined ? [] : known.slice(0, i);
      values.push(value);
    }
    i += 1;
  }
  if (values !== null) return values;
  return known !== undefined && known.length === i ? (known as unknown[]) : (known?.slice(0, i) ?? []);
}

/**
 * True when two importValues lists are the same values: then a slot's last
 * linking, or (reuse) its kept instance, serves the tenant as it is.
 */
export function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** JSPI's import marker, where the engine has one (Node 24+); read when needed, only for imports that are not functions. */
function suspendingClass(): (abstract new (...args: never[]) => object) | undefined {
  return (WebAssembly as unknown as { Suspending?: abstract new (...args: never[]) => object }).Suspending;
}

/**
 * The imports an instance of `prepared` is linked with: `values` (from
 * importValues) under the module's import names, function imports wrapped to
 * count on `calls`, and `memory` (when given) as the pool's memory import.
 * Only declared imports are there: V8 reads nothing else. A value V8 would
 * refuse (not callable, a missing module object) is passed through as it is,
 * so the link error is V8's own.
 *
 * @throws CowpoolError SUSPENDING_IMPORT for a `WebAssembly.Suspending`
 *         import: a suspended instance leaves the stack with its call still
 *         open, and no count can see when it resumes.
 */
export function guardImports(
  prepared: PreparedModule,
  imports: WebAssembly.Imports,
  values: readonly unknown[],
  calls: InstanceCalls,
  memory: WebAssembly.Memory | null,
  /** The slot's `unprotect` for a module with a virtual size (its `cowpool.unprotect` import). */
  unprotect: ((fromPage: number, toPage: number) => void) | null = null,
): WebAssembly.Imports {
  const linked: Record<string, Record<string, unknown>> = {};
  const target = prepared.memoryImport;
  if (memory !== null && target !== null) put(put(linked, target.module, {}) as Record<string, unknown>, target.name, memory);
  const virtual = prepared.layout.virtualSize;
  if (memory !== null && virtual !== null && unprotect !== null) {
    const module = virtual.unprotectImport.module;
    const into = Object.hasOwn(linked, module) ? linked[module]! : (put(linked, module, {}) as Record<string, unknown>);
    put(into, virtual.unprotectImport.name, unprotect);
  }
  let i = 0;
  for (const entry of prepared.layout.imports) {
    if (target !== null && entry.kind === 'memory' && entry.module === target.module && entry.name === target.name) continue;
    const value = values[i++];
    if (value === undefined) {
      // Only on the way to a link error: give V8 the module object as the tenant passed it, so the error is the same.
      const source: unknown = imports[entry.module];
      if (source === undefined || source === null || (typeof source !== 'object' && typeof source !== 'function')) {
        if (!Object.hasOwn(linked, entry.module)) put(linked, entry.module, source);
        continue;
      }
    }
    const into = Object.hasOwn(linked, entry.module) ? (linked[entry.module] as Record<string, unknown>) : (put(linked, entry.module, {}) as Record<string, unknown>);
    put(into, entry.name, linkedValue(prepared, entry, value, calls));
  }
  return linked as WebAssembly.Imports;
}

/**
 * Updates `linked` (made by guardImports from `before`, with the same
 * `prepared`, `calls` and memory) in place to link `after`: only the values
 * that changed are wrapped and stored again. Adding dozens of properties to
 * a new object costs far more than storing into existing ones. Instances
 * already made from `linked` keep what they were linked with (V8 reads
 * imports once, while instantiating). Returns false, changing nothing, when
 * an import is missing in either (the caller then builds anew, for V8's own
 * link error).
 */
export function relinkImports(prepared: PreparedModule, linked: WebAssembly.Imports, before: readonly unknown[], after: readonly unknown[], calls: InstanceCalls): boolean {
  if (before.length !== after.length || after.includes(undefined) || before.includes(undefined)) return false;
  const target = prepared.memoryImport;
  const updates: [Record<string, unknown>, string, unknown][] = [];
  let i = 0;
  for (const entry of prepared.layout.imports) {
    if (target !== null && entry.kind === 'memory' && entry.module === target.module && entry.name === target.name) continue;
    const value = after[i];
    if (value !== before[i]) updates.push([linked[entry.module] as Record<string, unknown>, entry.name, linkedValue(prepared, entry, value, calls)]);
    i += 1;
  }
  // Stored only once every value was accepted: a refused one (SUSPENDING_IMPORT) leaves `linked` as it was.
  for (const [into, name, value] of updates) put(into, name, value);
  return true;
}

/** What the instance is linked with for one import: a function wrapped to count on `calls`, anything else as it is. */
function linkedValue(prepared: PreparedModule, entry: { module: string; name: string; kind: string }, value: unknown, calls: InstanceCalls): unknown {
  if (entry.kind === 'function' && typeof value === 'function') return guarded(value as HostFunction, calls);
  const Suspending = typeof value === 'object' && value !== null ? suspendingClass() : undefined;
  if (Suspending !== undefined && value instanceof Suspending) {
    throw new CowpoolError(
      'SUSPENDING_IMPORT',
      `import ${JSON.stringify(entry.module)}.${JSON.stringify(entry.name)} of ${prepared.name} is a WebAssembly.Suspending (JSPI): ` +
        'an instance served by the pool must not suspend, since its slot could be given back while it is suspended; ' +
        'pass a synchronous function, or run the module outside the pool',
    );
  }
  return value;
}

/** `object[key] = value` as an own data property, `__proto__` included (a plain assignment would set the prototype). */
function put(object: Record<string, unknown>, key: string, value: unknown): unknown {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
  return value;
}
