/**
 * One line per request, as text or JSON, and the handler's stderr tagged with
 * the request id so it can be told apart from other requests' output.
 */

export interface RequestLogEntry {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  readonly route: string;
  /** Why a request failed, or extra detail (exit code); "" when nothing to add. */
  readonly note: string;
}

/** Bytes of a handler's stderr logged per request; the rest is summarised. */
const MAX_STDERR_LOGGED = 4096;

export class RequestLog {
  constructor(
    readonly format: 'text' | 'json',
    readonly write: (line: string) => void,
  ) {}

  request(e: RequestLogEntry): void {
    const time = new Date().toISOString();
    if (this.format === 'json') {
      this.write(JSON.stringify({ time, ...e, ms: Math.round(e.ms * 1000) / 1000 }));
      return;
    }
    const note = e.note === '' ? '' : ` (${e.note})`;
    this.write(`${time} ${e.id} ${e.method} ${e.path} ${e.status} ${e.ms.toFixed(2)}ms route=${e.route || '-'}${note}`);
  }

  stderr(id: string, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const shown = new TextDecoder().decode(bytes.subarray(0, MAX_STDERR_LOGGED));
    const more = bytes.length > MAX_STDERR_LOGGED ? ` [${bytes.length - MAX_STDERR_LOGGED} more bytes]` : '';
    if (this.format === 'json') {
      this.write(JSON.stringify({ time: new Date().toISOString(), id, stderr: shown + more }));
      return;
    }
    for (const line of shown.replace(/\n$/, '').split('\n')) this.write(`${id} stderr: ${line}`);
    if (more !== '') this.write(`${id} stderr:${more}`);
  }
}
