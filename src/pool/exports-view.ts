/**
 * The exports a lease hands out. Built lazily: a per-module prototype holds
 * one getter per export name, and a lease's view is `Object.create` of it, so
 * a lease costs nothing for exports never touched. The view is seen through
 * a proxy (one handler per module) that reports the export names as its own
 * keys, so `Object.keys(lease.exports)`, spreading and `Object.entries` list
 * the exports like a plain instance's. A function export is
 * wrapped on first access so a call after release throws LEASE_RELEASED
 * instead of running in a slot that now belongs to someone else, and counts
 * as a call in flight while it runs (from argument conversion to return), so
 * a release() from inside it is refused (LEASE_IN_CALL).
 *
 * A wrapped function is a JS function, not a wasm one: `table.set` and
 * funcref parameters refuse it (TypeError). Take such a function from
 * `lease.instance.exports` (unguarded) instead.
 */
import { CowpoolError } from '../errors.js';
import type { InstanceCalls } from './instance-calls.js';

/** What a view needs from its lease. */
export interface ExportsOwner {
  /** True once released: reads and calls then throw LEASE_RELEASED (the message is built only then). */
  readonly released: boolean;
  readonly rawExports: WebAssembly.Exports;
  /** What a memory export reads as: the lease's view of memory 0 when it has a virtual size (else the export itself). */
  exportedMemory(value: unknown): unknown;
  /** The instance's calls in flight. */
  readonly calls: InstanceCalls;
}

const OWNER = Symbol('cowpool.exportsOwner');

type View = Record<string, unknown> & { [OWNER]: ExportsOwner };

/** An export of the module as its author wrote it. */
export interface ExportEntry {
  readonly name: string;
  readonly kind: string;
}

const prototypes = new WeakMap<WebAssembly.Module, object>();
const handlers = new WeakMap<WebAssembly.Module, ProxyHandler<View>>();

/**
 * Own keys: the export names (a not-yet-wrapped one reported as the
 * prototype's getter, configurable, as the target is extensible).
 */
function handlerFor(module: WebAssembly.Module, proto: object, entries: readonly ExportEntry[]): ProxyHandler<View> {
  let handler = handlers.get(module);
  if (handler !== undefined) return handler;
  const names = entries.map((e) => e.name);
  const getters = new Map(names.map((n) => [n, Object.getOwnPropertyDescriptor(proto, n)?.get]));
  handler = {
    ownKeys: () => [...names],
    getOwnPropertyDescriptor(target, key) {
      const own = Reflect.getOwnPropertyDescriptor(target, key);
      if (own !== undefined || typeof key !== 'string' || !getters.has(key)) return own;
      return { get: getters.get(key), set: undefined, enumerable: true, configurable: true };
    },
  };
  handlers.set(module, handler);
  return handler;
}

function prototypeFor(module: WebAssembly.Module, entries: readonly ExportEntry[]): object {
  let proto = prototypes.get(module);
  if (proto !== undefined) return proto;
  proto = Object.create(null) as object;
  for (const { name, kind } of entries) {
    Object.defineProperty(proto, name, {
      enumerable: true,
      configurable: false,
      get(this: View): unknown {
        const owner = this[OWNER];
        if (owner.released) throw leaseReleasedError(`exports.${name}`);
        const value = owner.rawExports[name];
        if (kind === 'memory') return owner.exportedMemory(value);
        if (kind !== 'function' || typeof value !== 'function') return value;
        const wrapped = guardedExport(name, value as WasmFunction, owner, owner.calls);
        // Cache on the view: later reads skip the getter.
        Object.defineProperty(this, name, { value: wrapped, enumerable: true });
        return wrapped;
      },
    });
  }
  Object.freeze(proto);
  prototypes.set(module, proto);
  return proto;
}

type WasmFunction = (...args: unknown[]) => unknown;

/**
 * `fn` (export `name` of `owner`'s instance) as the view hands it out: it
 * throws LEASE_RELEASED once `owner` is released, and counts on `calls` from
 * before V8 converts the arguments (valueOf may run host code) until it
 * returns or throws. Named `name` by being a method of that name (setting
 * `name` afterwards cost more than the wrapper); called with the wasm
 * function's own arity it passes the arguments on directly, so a call makes
 * no arguments object.
 */
/* eslint-disable prefer-rest-params */
function guardedExport(name: string, fn: WasmFunction, owner: ExportsOwner, calls: InstanceCalls): WasmFunction {
  switch (fn.length) {
    case 0:
      return {
        [name](): unknown {
          if (owner.released) throw leaseReleasedError(`exports.${name}()`);
          calls.depth += 1;
          try {
            return arguments.length === 0 ? fn() : Reflect.apply(fn, undefined, arguments);
          } finally {
            calls.depth -= 1;
          }
        },
      }[name] as WasmFunction;
    case 1:
      return {
        [name](a: unknown): unknown {
          if (owner.released) throw leaseReleasedError(`exports.${name}()`);
          calls.depth += 1;
          try {
            return arguments.length === 1 ? fn(a) : Reflect.apply(fn, undefined, arguments);
          } finally {
            calls.depth -= 1;
          }
        },
      }[name] as WasmFunction;
    case 2:
      return {
        [name](a: unknown, b: unknown): unknown {
          if (owner.released) throw leaseReleasedError(`exports.${name}()`);
          calls.depth += 1;
          try {
            return arguments.length === 2 ? fn(a, b) : Reflect.apply(fn, undefined, arguments);
          } finally {
            calls.depth -= 1;
          }
        },
      }[name] as WasmFunction;
    case 3:
      return {
        [name](a: unknown, b: unknown, c: unknown): unknown {
          if (owner.released) throw leaseReleasedError(`exports.${name}()`);
          calls.depth += 1;
          try {
            return arguments.length === 3 ? fn(a, b, c) : Reflect.apply(fn, undefined, arguments);
          } finally {
            calls.depth -= 1;
          }
        },
      }[name] as WasmFunction;
    default:
      return {
        [name](): unknown {
          if (owner.released) throw leaseReleasedError(`exports.${name}()`);
          calls.depth += 1;
          try {
            return Reflect.apply(fn, undefined, arguments);
          } finally {
            calls.depth -= 1;
          }
        },
      }[name] as WasmFunction;
  }
}
/* eslint-enable prefer-rest-params */

/**
 * A lazily wrapped exports object for `owner`'s instance of `module`, with
 * one property per entry of `entries` — the original module's exports, so
 * what the rewrite added for the pool (`__cowpool_*`) stays out of sight.
 * `entries` must be the same for every call with the same `module`.
 */
export function createExportsView(
  module: WebAssembly.Module,
  entries: readonly ExportEntry[],
  owner: ExportsOwner,
): Record<string, unknown> {
  const proto = prototypeFor(module, entries);
  const view = Object.create(proto) as View;
  // A plain (so configurable) property: the proxy may leave it out of its own
  // keys. The prototype has no OWNER, so the assignment makes an own one.
  view[OWNER] = owner;
  return new Proxy(view, handlerFor(module, proto, entries));
}

export function leaseReleasedError(what: string): CowpoolError {
  return new CowpoolError('LEASE_RELEASED', `${what}: the lease was released; acquire a new instance from the pool`);
}
