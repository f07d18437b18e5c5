/**
 * What the server and its request workers say to each other. A job carries
 * one request's WASI inputs; a result carries what the handler wrote, or
 * why it did not finish. Both travel as bytes in a worker's job ring
 * (job-ring.ts), in the layouts below; start-up data and statistics travel
 * as messages.
 *
 *   job     u32 route · u32 envBytes · u32 stdinBytes │ env (JSON) │ stdin
 *   result  u32 kind · i32 exitCode · u32 truncated · u32 stdoutBytes
 *           · u32 stderrBytes · u32 messageBytes │ stdout │ stderr │ message
 */

export interface ServeJob {
  /** Index into the configuration's routes. */
  readonly route: number;
  readonly env: Readonly<Record<string, string>>;
  /** The request body. */
  readonly stdin: Uint8Array;
}

export type ServeResult =
  | {
      readonly kind: 'exit';
      readonly exitCode: number;
      readonly stdout: Uint8Array;
      readonly stderr: Uint8Array;
      /** Output went past limits.maxOutputBytes and was cut. */
      readonly truncated: boolean;
    }
  | { readonly kind: 'trap'; readonly message: string; readonly stderr: Uint8Array }
  | { readonly kind: 'error'; readonly message: string };

/** What a worker gets at start: everything it needs to prepare its routes. */
export interface ServeWorkerData {
  readonly routes: ReadonlyArray<{
    /** Absolute path of the module. */
    readonly module: string;
    /** argv: the route's path, then its configured args. */
    readonly args: readonly string[];
    readonly initialize?: string;
    readonly maxMemoryBytes?: number;
  }>;
  /** The instance pool configuration input for each worker's pool. */
  readonly pool: unknown;
  readonly maxOutputBytes: number;
}

/** A worker's pool statistics, posted at most every few hundred milliseconds. */
export interface ServeWorkerReport {
  /** The worker's threadId. */
  readonly worker: number;
  readonly stats: Record<string, number>;
}

const JOB_HEADER = 12;
const RESULT_HEADER = 24;
/** Bytes of an error or trap message kept in a result (the rest is cut). */
export const MAX_RESULT_MESSAGE_BYTES = 4096;

const KINDS = ['exit', 'trap', 'error'] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of the largest job a server with these caps sends: the body plus room for the environment. */
export function maxJobBytes(maxBodyBytes: number, envBytes: number): number {
  return JOB_HEADER + envBytes + maxBodyBytes;
}

/** Bytes of the largest result: stdout and stderr at their cap, and a message. */
export function maxResultBytes(maxOutputBytes: number): number {
  return RESULT_HEADER + 2 * maxOutputBytes + MAX_RESULT_MESSAGE_BYTES;
}

/** Results up to this size travel in a ring slot; larger ones as a message. */
export const SLOT_RESULT_BYTES = 1024 * 1024;

/** The room for a result in a ring slot. */
export function slotResultBytes(maxOutputBytes: number): number {
  return Math.min(maxResultBytes(maxOutputBytes), SLOT_RESULT_BYTES);
}

/** Bytes `result` takes encoded. */
export function serveResultBytes(result: ServeResult): number {
  const out = result.kind === 'exit' ? result.stdout.length : 0;
  const err = result.kind === 'error' ? 0 : result.stderr.length;
  const message = result.kind === 'exit' ? 0 : Math.min(Buffer.byteLength(result.message), MAX_RESULT_MESSAGE_BYTES);
  return RESULT_HEADER + out + err + message;
}

export function encodeServeJob(job: ServeJob): Uint8Array {
  const env = encoder.encode(JSON.stringify(job.env));
  const out = new Uint8Array(JOB_HEADER + env.length + job.stdin.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, job.route, true);
  view.setUint32(4, env.length, true);
  view.setUint32(8, job.stdin.length, true);
  out.set(env, JOB_HEADER);
  out.set(job.stdin, JOB_HEADER + env.length);
  return out;
}

/** A job read from a ring slot; `stdin` is a copy (the slot is reused). */
export function decodeServeJob(bytes: Uint8Array): ServeJob {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const envLength = view.getUint32(4, true);
  const stdinLength = view.getUint32(8, true);
  if (JOB_HEADER + envLength + stdinLength !== bytes.length) throw new Error(`a job of ${bytes.length} bytes says it holds ${envLength} + ${stdinLength}`);
  return {
    route: view.getUint32(0, true),
    // TextDecoder refuses views of shared memory: copy the env bytes first.
    env: JSON.parse(decoder.decode(bytes.slice(JOB_HEADER, JOB_HEADER + envLength))) as Record<string, string>,
    stdin: bytes.slice(JOB_HEADER + envLength),
  };
}

/** Writes `result` into `into`; returns the bytes written. Output longer than `into` allows is a RangeError. */
export function encodeServeResult(result: ServeResult, into: Uint8Array): number {
  const view = new DataView(into.buffer, into.byteOffset, into.length);
  const stdout = result.kind === 'exit' ? result.stdout : new Uint8Array(0);
  const stderr = result.kind === 'error' ? new Uint8Array(0) : result.stderr;
  const message = result.kind === 'exit' ? new Uint8Array(0) : encoder.encode(result.message).subarray(0, MAX_RESULT_MESSAGE_BYTES);
  const total = RESULT_HEADER + stdout.length + stderr.length + message.length;
  if (total > into.length) throw new RangeError(`a result of ${total} bytes does not fit in ${into.length}`);
  view.setUint32(0, KINDS.indexOf(result.kind), true);
  view.setInt32(4, result.kind === 'exit' ? result.exitCode : 0, true);
  view.setUint32(8, result.kind === 'exit' && result.truncated ? 1 : 0, true);
  view.setUint32(12, stdout.length, true);
  view.setUint32(16, stderr.length, true);
  view.setUint32(20, message.length, true);
  into.set(stdout, RESULT_HEADER);
  into.set(stderr, RESULT_HEADER + stdout.length);
  into.set(message, RESULT_HEADER + stdout.length + stderr.length);
  return total;
}

/** A result read from a ring slot; its bytes are copies (the slot is reused). */
export function decodeServeResult(bytes: Uint8Array): ServeResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const kind = KINDS[view.getUint32(0, true)];
  const outLength = view.getUint32(12, true);
  const errLength = view.getUint32(16, true);
  const messageLength = view.getUint32(20, true);
  if (kind === undefined || RESULT_HEADER + outLength + errLength + messageLength !== bytes.length) throw new Error('a malformed result');
  const stdout = bytes.slice(RESULT_HEADER, RESULT_HEADER + outLength);
  const stderr = bytes.slice(RESULT_HEADER + outLength, RESULT_HEADER + outLength + errLength);
  const message = decoder.decode(bytes.slice(RESULT_HEADER + outLength + errLength));
  if (kind === 'exit') return { kind, exitCode: view.getInt32(4, true), stdout, stderr, truncated: view.getUint32(8, true) === 1 };
  if (kind === 'trap') return { kind, message, stderr };
  return { kind, message };
}
