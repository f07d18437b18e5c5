/**
 * Text-format WebAssembly for tests: assembles with wabt, with bulk memory,
 * reference types and mutable globals on (the features the pool's modules
 * use), plus any extra features a test asks for.
 */
import wabtInit from 'wabt';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;

/** wabt feature switches; `memory64` and `multi_memory` exist in wabt although its typings omit some. */
export type WatFeature =
  | 'bulk_memory' | 'reference_types' | 'mutable_globals' | 'threads' | 'memory64' | 'multi_memory'
  | 'extended_const' | 'simd';

let wabt: Wabt | null = null;

/** Assembles `source` (a whole `(module ...)`) into a binary; throws wabt's message naming the line at fault. */
export async function watModule(source: string, extra: Partial<Record<WatFeature, boolean>> = {}): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const features = { bulk_memory: true, reference_types: true, mutable_globals: true, ...extra };
  const module = wabt.parseWat('test.wat', source, features as never);
  try {
    module.resolveNames();
    // wabt validates with the features it is given (its typings omit the argument).
    (module as unknown as { validate(features: object): void }).validate(features);
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Escapes bytes for a text-format data string. */
export function watBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += `\\${b.toString(16).padStart(2, '0')}`;
  return out;
}
