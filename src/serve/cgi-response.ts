/**
 * A handler's stdout read as a CGI response (RFC 3875 §6): header lines, a
 * blank line, the body. `Status: 404 Not Found` sets the status; a
 * `Location:` without a status redirects (302); a response must carry at least
 * one of Content-Type, Location or Status. Lines may end in LF or CRLF.
 *
 * Anything else is a malformed response: the server answers 502 and logs
 * why, and nothing of the handler's output reaches the client.
 */

export interface CgiResponse {
  readonly status: number;
  /** Header names as written; Status is consumed, not forwarded. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array;
}

export type CgiParse = { readonly ok: true; readonly response: CgiResponse } | { readonly ok: false; readonly reason: string };

/** Header section larger than this is malformed (a handler that forgot the blank line). */
export const MAX_CGI_HEADER_BYTES = 64 * 1024;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values: visible characters, spaces and tabs (no control characters, so no header injection).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers the server sets itself. */
const HOP_BY_HOP = new Set(['connection', 'transfer-encoding', 'content-length', 'keep-alive', 'upgrade', 'trailer']);

function headerEnd(bytes: Uint8Array): { end: number; bodyStart: number } | undefined {
  const limit = Math.min(bytes.length, MAX_CGI_HEADER_BYTES + 4);
  for (let i = 0; i < limit; i++) {
    if (bytes[i] !== 0x0a) continue;
    // "\n\n" or "\n\r\n"
    if (bytes[i + 1] === 0x0a) return { end: i, bodyStart: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { end: i, bodyStart: i + 3 };
  }
  return undefined;
}

export function parseCgiResponse(stdout: Uint8Array): CgiParse {
  const bad = (reason: string): CgiParse => ({ ok: false, reason });
  const split = headerEnd(stdout);
  if (split === undefined) {
    return bad(stdout.length === 0 ? 'the handler wrote nothing' : 'no blank line after the headers');
  }
  const text = Buffer.from(stdout.buffer, stdout.byteOffset, split.end).toString('latin1');
  const headers: [string, string][] = [];
  let status: number | undefined;
  let location = false;
  let contentType = false;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`a header line without a name and ":" (${JSON.stringify(line.slice(0, 80))})`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) return bad(`an invalid header name ${JSON.stringify(name.slice(0, 80))}`);
    if (!FIELD_VALUE.test(value)) return bad(`a control character in header ${name}`);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const m = /^([1-5]\d\d)(?: .*)?$/.exec(value);
      if (m === null) return bad(`Status ${JSON.stringify(value.slice(0, 80))} is not a three-digit code`);
      const code = Number(m[1]);
      if (code < 200) return bad(`Status ${code}: informational statuses cannot end a response`);
      status = code;
      continue;
    }
    if (lower === 'location') location = true;
    if (lower === 'content-type') contentType = true;
    if (HOP_BY_HOP.has(lower)) continue;
    headers.push([name, value]);
  }
  if (status === undefined && !location && !contentType) return bad('none of Content-Type, Location or Status');
  return {
    ok: true,
    response: {
      status: status ?? (location ? 302 : 200),
      headers,
      body: stdout.subarray(split.bodyStart),
    },
  };
}
