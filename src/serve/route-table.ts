/**
 * Which route answers a request path. Exact routes win over prefixes; among
 * prefixes the longest wins, so `/api/admin/...` beats `/api/...`.
 *
 * Pure: no I/O. Paths are compared after percent-decoding nothing: the route
 * table matches what the client sent, and PATH_INFO carries the rest as sent.
 */

export interface RouteMatch<R> {
  readonly route: R;
  /** The route's path without a trailing "/...": the CGI SCRIPT_NAME. */
  readonly scriptName: string;
  /** What follows scriptName in the request path ("" or starting with "/"): the CGI PATH_INFO. */
  readonly pathInfo: string;
  /** The route's path as configured (X_MATCHED_ROUTE). */
  readonly pattern: string;
}

interface Entry<R> {
  readonly route: R;
  readonly pattern: string;
  readonly prefix: string;
}

export class RouteTable<R extends { readonly path: string }> {
  readonly #exact = new Map<string, R>();
  /** Longest prefix first. */
  readonly #prefixes: Entry<R>[];

  constructor(routes: readonly R[]) {
    const prefixes: Entry<R>[] = [];
    for (const route of routes) {
      if (route.path.endsWith('/...')) {
        prefixes.push({ route, pattern: route.path, prefix: route.path.slice(0, -'/...'.length) });
      } else {
        this.#exact.set(route.path, route);
      }
    }
    this.#prefixes = prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The route for `path` (the URL's path, without the query), or undefined (404). */
  match(path: string): RouteMatch<R> | undefined {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return { route: exact, scriptName: path, pathInfo: '', pattern: exact.path };
    for (const entry of this.#prefixes) {
      // "/api/..." matches "/api" and "/api/x", never "/apix"; "/..." matches everything.
      if (path === entry.prefix || path.startsWith(`${entry.prefix}/`)) {
        return { route: entry.route, scriptName: entry.prefix, pathInfo: path.slice(entry.prefix.length), pattern: entry.pattern };
      }
    }
    return undefined;
  }
}
