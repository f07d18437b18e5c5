/**
 * What the server and its request workers say to each other. A job carries
 * one request's WASI inputs; a result carries what the handler wrote, or
 * why it did not finish. Plain data: it crosses a thread boundary.
 */

export interface ServeJob {
  /** Index into the configuration's routes. */
  readonly route: number;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The request body (transferred, not copied). */
  readonly stdin: Uint8Array;
}

/** Every result names its worker (its threadId), for per-worker pool metrics. */
export type ServeResult = { readonly worker: number } & (
  | {
      readonly kind: 'exit';
      readonly exitCode: number;
      readonly stdout: Uint8Array;
      readonly stderr: Uint8Array;
      /** Output went past limits.maxOutputBytes and was cut. */
      readonly truncated: boolean;
      /** The worker's pool statistics after the request, flattened to numbers. */
      readonly stats: Record<string, number>;
    }
  | { readonly kind: 'trap'; readonly message: string; readonly stderr: Uint8Array; readonly stats: Record<string, number> }
  | { readonly kind: 'error'; readonly message: string; readonly stats: Record<string, number> }
);

/** What a worker gets at start: everything it needs to prepare its routes. */
export interface ServeWorkerData {
  readonly routes: ReadonlyArray<{
    /** Absolute path of the module. */
    readonly module: string;
    readonly initialize?: string;
    readonly maxMemoryBytes?: number;
  }>;
  /** The instance pool configuration input for each worker's pool. */
  readonly pool: unknown;
  readonly maxOutputBytes: number;
}
