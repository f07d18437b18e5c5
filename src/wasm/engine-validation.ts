/**
 * Asking the engine (V8) whether it accepts a module, and why not. The
 * structural parse catches malformed binaries; only the engine knows typing
 * rules and which proposals this Node version enables.
 */
import type { ModuleInfo } from './module-info.js';

export interface EngineRejection {
  /** The engine's own explanation (CompileError message), or a generic one. */
  reason: string;
  /** Byte offset the engine named (`@+123`), if it named one. */
  offset: number | null;
}

/** True when the engine accepts `bytes` as a module. Does not compile. */
export function engineAccepts(bytes: Uint8Array): boolean {
  return WebAssembly.validate(bytes);
}

/**
 * Why the engine rejects `bytes`. Only called after `engineAccepts` said no:
 * the CompileError of a synchronous compile carries the reason and offset
 * that `WebAssembly.validate` does not report. The compile fails, so nothing
 * compiled is kept.
 */
export function engineRejection(bytes: Uint8Array): EngineRejection {
  try {
    new WebAssembly.Module(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /@\+(\d+)/.exec(message);
    return { reason: message, offset: at?.[1] === undefined ? null : Number(at[1]) };
  }
  return { reason: 'WebAssembly.validate rejected the module but it compiled', offset: null };
}

/**
 * Features this module uses that an engine may not enable by default, with
 * the V8 flag that enables them where there is one. Used to make an
 * engine rejection actionable.
 */
export function proposalHints(info: ModuleInfo): string[] {
  const hints: string[] = [];
  if (info.memories.length > 1) {
    hints.push(`it declares ${info.memories.length} memories (multi-memory), which needs a runtime with multi-memory support (V8 12+, Node 22+)`);
  }
  if (info.memories.some((m) => m.limits.is64) || info.tables.some((t) => t.limits.is64)) {
    hints.push('it uses 64-bit memory or table addresses (memory64), which Node 20 enables only with --experimental-wasm-memory64');
  }
  const exprs = [
    ...info.data.map((d) => d.offsetExpr),
    ...info.elements.map((e) => e.offsetExpr),
    ...info.globals.map((g) => g.init),
  ];
  const extended = exprs.some((e) => e?.instrs.some((i) => /^i(32|64)\.(add|sub|mul)$/.test(i.op)) === true);
  if (extended) {
    hints.push('it uses extended constant expressions (add/sub/mul in an initialiser), which Node 20 enables only with --experimental-wasm-extended-const');
  }
  return hints;
}
