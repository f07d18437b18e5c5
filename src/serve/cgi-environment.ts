/**
 * The environment a WAGI handler sees: the route's own variables, then the
 * CGI variables of the request on top (RFC 3875 names, as WAGI sets them),
 * one HTTP_* variable per request header.
 */

export interface CgiRequest {
  readonly method: string;
  /** The request target's path, before "?". */
  readonly path: string;
  /** What follows "?" (without it), or "". */
  readonly query: string;
  /** Header names lower-cased (as node:http gives them); repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly bodyLength: number;
  readonly httpVersion: string;
  readonly remoteAddress: string;
  readonly serverName: string;
  readonly serverPort: number;
}

export interface CgiRoute {
  readonly scriptName: string;
  readonly pathInfo: string;
  readonly pattern: string;
}

/** A header name as a CGI meta-variable: `x-request-id` → `HTTP_X_REQUEST_ID`. */
export function headerVariable(name: string): string {
  return `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;
}

export function cgiEnvironment(
  request: CgiRequest,
  route: CgiRoute,
  routeEnv: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...routeEnv };
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    // Content-Type and Content-Length have variables of their own (RFC 3875 4.1.18).
    if (name === 'content-type' || name === 'content-length') continue;
    const variable = headerVariable(name);
    // A header name that cannot be an environment name is dropped, never mangled into another.
    if (!/^HTTP_[A-Z0-9_]+$/.test(variable)) continue;
    env[variable] = typeof value === 'string' ? value : value.join(', ');
  }
  const contentType = request.headers['content-type'];
  Object.assign(env, {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'cowpool',
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: route.scriptName,
    PATH_INFO: route.pathInfo,
    QUERY_STRING: request.query,
    CONTENT_TYPE: typeof contentType === 'string' ? contentType : '',
    CONTENT_LENGTH: request.bodyLength > 0 ? String(request.bodyLength) : '',
    SERVER_NAME: request.serverName,
    SERVER_PORT: String(request.serverPort),
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    REMOTE_ADDR: request.remoteAddress,
    X_MATCHED_ROUTE: route.pattern,
  });
  return env;
}
