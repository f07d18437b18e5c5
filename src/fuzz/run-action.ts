/**
 * Runs one TenantAction against an instance's exports and records what
 * happened in a form two instances can be compared by: the value returned,
 * or the class and message of what was thrown (a trap).
 */
import type { TenantAction } from './tenant-actions.js';

export type Outcome = { value: string } | { threw: string };

function call(exports: Record<string, unknown>, name: string, ...args: unknown[]): unknown {
  const fn = exports[name];
  if (typeof fn !== 'function') throw new TypeError(`export ${name} is not a function`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return String(value);
}

/** What throwing `e` looks like in a comparison: class, CowpoolError code, message. */
export function thrownDescription(e: unknown): string {
  if (!(e instanceof Error)) return `non-error ${typeof e}: ${String(e)}`;
  const code = (e as { code?: unknown }).code;
  return `${e.name}${typeof code === 'string' ? `[${code}]` : ''}: ${e.message}`;
}

export function outcome(run: () => unknown): Outcome {
  try {
    return { value: describe(run()) };
  } catch (e) {
    return { threw: thrownDescription(e) };
  }
}

export function describeOutcome(o: Outcome): string {
  return 'value' in o ? `returned ${o.value}` : `threw ${o.threw}`;
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return 'value' in a ? 'value' in b && a.value === b.value : 'threw' in b && a.threw === b.threw;
}

function hostWrite(exports: Record<string, unknown>, address: number, value: number, length: number): string {
  const buffer = (exports.mem as WebAssembly.Memory).buffer;
  // A careful host checks bounds itself; the typed array constructor would throw a RangeError anyway.
  if (address < 0 || address + length > buffer.byteLength) return 'not written: out of range';
  new Uint8Array(buffer, address, length).fill(value);
  return 'written';
}

/** Runs `action` on `exports` (a plain instance's exports or a lease's view). */
export function runAction(exports: Record<string, unknown>, action: TenantAction): Outcome {
  return outcome(() => {
    switch (action.kind) {
      case 'store':
        return action.width === 64
          ? call(exports, 'store64', action.address, BigInt(action.value))
          : call(exports, `store${action.width}`, action.address, action.value);
      case 'load':
        return call(exports, `load${action.width}`, action.address);
      case 'fill':
        return call(exports, 'fill', action.address, action.value, action.length);
      case 'copy':
        return call(exports, 'copy', action.dest, action.source, action.length);
      case 'hostWrite':
        return hostWrite(exports, action.address, action.value, action.length);
      case 'grow':
        return call(exports, 'grow', action.pages);
      case 'size':
        return call(exports, 'size');
      case 'trapWrite':
        return call(exports, 'trapwrite', action.address, action.length, action.value);
      case 'memoryInit':
        return call(exports, `init${action.segment}`, action.dest, action.source, action.length);
      case 'dataDrop':
        return call(exports, `drop${action.segment}`);
      case 'globalSet':
        if (action.via === 'wasm') return call(exports, `gset${action.global}`, action.value);
        (exports[`g${action.global}`] as WebAssembly.Global).value = action.value;
        return 'set';
      case 'tableSet':
        return action.func === null
          ? call(exports, `tnull${action.table}`, action.index)
          : call(exports, `tset${action.table}_${action.func}`, action.index);
      case 'tableGrow':
        return call(exports, `tgrow${action.table}`, action.delta);
      case 'tableCall':
        return call(exports, `tcall${action.table}`, action.index);
    }
  });
}
