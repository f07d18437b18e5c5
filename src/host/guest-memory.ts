/**
 * The bounds-checked guest memory helpers live with the pool (src/pool/guest-memory.ts),
 * whose host bindings (`ctx`) use them; the WASI host reads them from here.
 */
export * from '../pool/guest-memory.js';
