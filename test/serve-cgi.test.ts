import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cgiEnvironment, headerVariable, type CgiRequest } from '../src/serve/cgi-environment.js';
import { parseCgiResponse } from '../src/serve/cgi-response.js';
import { RouteTable } from '../src/serve/route-table.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('parseCgiResponse', () => {
  it('reads headers, a blank line and the body; LF or CRLF', () => {
    for (const nl of ['\n', '\r\n']) {
      const r = parseCgiResponse(enc(`Content-Type: text/plain${nl}X-A: 1${nl}${nl}hello${nl}world`));
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.response.status).toBe(200);
      expect(r.response.headers).toEqual([['Content-Type', 'text/plain'], ['X-A', '1']]);
      expect(dec(r.response.body)).toBe(`hello${nl}world`);
    }
  });

  it('Status sets the status and is not forwarded; Location alone redirects with 302', () => {
    const s = parseCgiResponse(enc('Status: 404 Not Found\nContent-Type: text/plain\n\nnope'));
    expect(s.ok && s.response.status).toBe(404);
    expect(s.ok && s.response.headers.map(([n]) => n)).toEqual(['Content-Type']);
    const l = parseCgiResponse(enc('Location: /elsewhere\n\n'));
    expect(l.ok && l.response.status).toBe(302);
    const both = parseCgiResponse(enc('Status: 301\nLocation: /moved\n\n'));
    expect(both.ok && both.response.status).toBe(301);
  });

  it('refuses malformed output with a reason', () => {
    const cases: [string, RegExp][] = [
      ['', /nothing/],
      ['just a body with no headers', /no blank line/],
      ['Content-Type: text/plain\nno colon here\n\n', /without a name/],
      ['Bad Name: x\n\n', /invalid header name/],
      ['Status: abc\n\n', /three-digit/],
      ['Status: 100\n\n', /informational/],
      ['X-Only: 1\n\nbody', /Content-Type, Location or Status/],
      ['Content-Type: text/plain\u0001\n\n', /control character/],
      ['\n\nbody', /without a name/],
    ];
    for (const [text, reason] of cases) {
      const r = parseCgiResponse(enc(text));
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.reason, text).toMatch(reason);
    }
  });

  it('drops headers the server sets itself (Content-Length, Transfer-Encoding, Connection)', () => {
    const r = parseCgiResponse(enc('Content-Type: a/b\nContent-Length: 999\nTransfer-Encoding: chunked\nConnection: close\n\nx'));
    expect(r.ok && r.response.headers).toEqual([['Content-Type', 'a/b']]);
  });

  it('any body bytes after the blank line come back unchanged', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (body) => {
        const head = enc('Content-Type: application/octet-stream\r\n\r\n');
        const out = new Uint8Array(head.length + body.length);
        out.set(head);
        out.set(body, head.length);
        const r = parseCgiResponse(out);
        expect(r.ok).toBe(true);
        if (r.ok) expect([...r.response.body]).toEqual([...body]);
      }),
    );
  });
});

describe('RouteTable', () => {
  const table = new RouteTable([{ path: '/hello' }, { path: '/api/...' }, { path: '/api/admin/...' }, { path: '/...' }]);

  it('exact routes win, then the longest prefix; PATH_INFO is the rest', () => {
    expect(table.match('/hello')).toMatchObject({ pattern: '/hello', scriptName: '/hello', pathInfo: '' });
    expect(table.match('/api')).toMatchObject({ pattern: '/api/...', scriptName: '/api', pathInfo: '' });
    expect(table.match('/api/users/7')).toMatchObject({ pattern: '/api/...', pathInfo: '/users/7' });
    expect(table.match('/api/admin/x')).toMatchObject({ pattern: '/api/admin/...', scriptName: '/api/admin', pathInfo: '/x' });
    expect(table.match('/apix')).toMatchObject({ pattern: '/...', scriptName: '', pathInfo: '/apix' });
  });

  it('no match without a catch-all', () => {
    const t = new RouteTable([{ path: '/hello' }, { path: '/api/...' }]);
    expect(t.match('/hello/x')).toBeUndefined();
    expect(t.match('/apix')).toBeUndefined();
    expect(t.match('/')).toBeUndefined();
  });

  it('scriptName + pathInfo is always the request path', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('api', 'admin', 'x', 'hello', ''), { maxLength: 5 }), (parts) => {
        const path = `/${parts.join('/')}`;
        const m = table.match(path);
        expect(m).toBeDefined();
        if (m) expect(m.scriptName + m.pathInfo).toBe(path);
      }),
    );
  });
});

describe('cgiEnvironment', () => {
  const request: CgiRequest = {
    method: 'POST',
    path: '/api/users/7',
    query: 'a=1&b=2',
    headers: { 'content-type': 'text/plain', 'content-length': '5', 'x-request-id': 'abc', accept: ['a/b', 'c/d'], 'bad header!': 'x' },
    bodyLength: 5,
    httpVersion: '1.1',
    remoteAddress: '127.0.0.1',
    serverName: 'localhost',
    serverPort: 8080,
  };

  it('sets the CGI variables, HTTP_* per header, and lets the request override the route env', () => {
    const env = cgiEnvironment(request, { scriptName: '/api', pathInfo: '/users/7', pattern: '/api/...' }, { GREETING: 'hi', REQUEST_METHOD: 'spoofed' });
    expect(env).toMatchObject({
      GREETING: 'hi',
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '/api',
      PATH_INFO: '/users/7',
      QUERY_STRING: 'a=1&b=2',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '5',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      X_MATCHED_ROUTE: '/api/...',
      HTTP_X_REQUEST_ID: 'abc',
      HTTP_ACCEPT: 'a/b, c/d',
    });
    expect(env.HTTP_CONTENT_TYPE).toBeUndefined();
    expect(Object.keys(env).some((k) => k.includes('!') || k.includes(' '))).toBe(false);
  });

  it('a header cannot spoof a CGI variable', () => {
    const env = cgiEnvironment({ ...request, headers: { request_method: 'GET' } }, { scriptName: '', pathInfo: '/', pattern: '/...' });
    expect(env.REQUEST_METHOD).toBe('POST');
    expect(env.HTTP_REQUEST_METHOD).toBe('GET');
    expect(headerVariable('x-a-b')).toBe('HTTP_X_A_B');
  });
});
