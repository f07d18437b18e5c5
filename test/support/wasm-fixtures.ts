/**
 * Helpers shared by the wasm tests: text-format modules through wabt, the
 * WebAssembly JS API typed with what the tests use, and instantiation of an
 * original module and of its prepared (rewritten + image) form the way the
 * pool does it, with a plain JS copy instead of the addon.
 */
import wabtInit from 'wabt';
import type { PreparedLayout } from '../../src/wasm/prepare-layout.js';

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
export interface WasmGlobal {
  value: unknown;
}
export interface WasmTable {
  readonly length: number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export type Imports = Record<string, Record<string, unknown>>;

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: Imports) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Global: new (descriptor: { value: string; mutable?: boolean }, value?: unknown) => WasmGlobal;
  Table: new (descriptor: { element: string; initial: number; maximum?: number }) => WasmTable;
  RuntimeError: new (message?: string) => Error;
}

/** The WebAssembly global (the project's type libraries do not declare it). */
export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wabt: Awaited<ReturnType<typeof wabtInit>> | null = null;

/** Features wabt should accept; `multi_memory` is supported by wabt although its typings omit it. */
export type WatFeatures = Partial<Record<
  'bulk_memory' | 'threads' | 'memory64' | 'multi_memory' | 'extended_const' | 'simd' | 'reference_types' | 'mutable_globals' | 'exceptions',
  boolean
>>;

/** Assemble a text-format module. Bulk memory and reference types are on unless turned off. */
export async function wat(source: string, features: WatFeatures = {}): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const enabled = { bulk_memory: true, reference_types: true, ...features };
  const module = wabt.parseWat('test.wat', source, enabled as never);
  try {
    module.resolveNames();
    // validate() takes the feature set too (its typings omit the parameter).
    (module.validate as (features: object) => void)(enabled);
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Escape bytes for a text-format data string. */
export function watString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += `\\${b.toString(16).padStart(2, '0')}`;
  return out;
}

export function instantiate(bytes: Uint8Array, imports: Imports = {}): WasmInstance {
  return new WA.Instance(new WA.Module(bytes), imports);
}

/**
 * Instantiate `layout.bytes` as the pool does for a copy-on-write module: a
 * fresh Memory with memory 0's limits, the image copied into its first bytes,
 * plugged in under `layout.memoryImport`.
 */
export function instantiatePrepared(layout: PreparedLayout, imports: Imports = {}): { instance: WasmInstance; memory: WasmMemory } {
  if (!layout.cow || layout.memory === null || layout.memoryImport === null) {
    throw new Error(`layout is not copy-on-write: ${layout.fallbackReason ?? 'no memory import'}`);
  }
  const descriptor: { initial: number; maximum?: number } = { initial: layout.memory.initialPages };
  if (layout.memory.maximumPages !== null) descriptor.maximum = layout.memory.maximumPages;
  const memory = new WA.Memory(descriptor);
  new Uint8Array(memory.buffer).set(layout.image, 0);
  const { module, name } = layout.memoryImport;
  const merged: Imports = { ...imports, [module]: { ...(imports[module] ?? {}), [name]: memory } };
  return { instance: instantiate(layout.bytes, merged), memory };
}

/** Call an export that is a function. */
export function call(instance: WasmInstance, name: string, ...args: unknown[]): unknown {
  const fn = instance.exports[name];
  if (typeof fn !== 'function') throw new Error(`export ${name} is not a function`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

/** The outcome of a call, comparable across two instances: a value, or the class of what it threw. */
export function outcome(run: () => unknown): { value: unknown } | { threw: string } {
  try {
    return { value: run() };
  } catch (e) {
    return { threw: e instanceof WA.RuntimeError ? 'RuntimeError' : e instanceof Error ? e.name : String(e) };
  }
}

export function exportedMemory(instance: WasmInstance, name = 'mem'): WasmMemory {
  const memory = instance.exports[name];
  if (memory === undefined) throw new Error(`no export ${name}`);
  return memory as WasmMemory;
}
