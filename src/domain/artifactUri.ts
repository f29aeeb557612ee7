/**
 * Where an artifact URI points inside an MLflow artifact proxy, read as MLflow's client reads it
 * (`MlflowArtifactsRepository.resolve_uri` over urllib's `urlparse`):
 *   mlflow-artifacts:[//host[:port]][/]path   the proxy of `host`, or of the tracking server
 *   http(s)://host/api/2.0/mlflow-artifacts/artifacts/path   the proxy route itself
 * The scheme is case-insensitive, a query or fragment is not part of the path, runs of slashes
 * are one, and leading and trailing slashes go. One parser for the client, the server and the
 * store, so they agree on which file a URI names. Browser-safe: the views use it too.
 */

/** The artifact proxy's route on a tracking server. */
export const PROXY_ROUTE = '/api/2.0/mlflow-artifacts/artifacts';

export interface ProxyLocation {
  /** `host[:port]` the URI names, or undefined for the tracking server itself. */
  host: string | undefined;
  /** The path under the proxy root, without leading or trailing slashes ('' is the root). */
  path: string;
}

function cleanPath(raw: string): string {
  const path = raw.replace(/\/{2,}/g, '/');
  // MLflow maps a URI naming the proxy route itself to the proxy root.
  if (path === PROXY_ROUTE || path === `${PROXY_ROUTE}/`) return '';
  return path.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The proxy location of an artifact URI; undefined for any other store (s3:, file:, a local path…). */
export function parseProxyUri(uri: string): ProxyLocation | undefined {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  if (!scheme) return undefined;
  const name = scheme[1]!.toLowerCase();
  let rest = uri.slice(scheme[0].length).replace(/#.*$/s, '').replace(/\?.*$/s, '');
  if (name === 'mlflow-artifacts') {
    let host: string | undefined;
    if (rest.startsWith('//')) {
      const end = rest.indexOf('/', 2);
      host = (end < 0 ? rest.slice(2) : rest.slice(2, end)) || undefined;
      rest = end < 0 ? '' : rest.slice(end);
    }
    return { host, path: cleanPath(rest) };
  }
  if (name === 'http' || name === 'https') {
    const m = /^\/\/([^/]+)(\/.*)?$/.exec(rest);
    const route = m?.[2] ?? '';
    if (!m || !(route === PROXY_ROUTE || route.startsWith(`${PROXY_ROUTE}/`))) return undefined;
    return { host: m[1], path: cleanPath(route.slice(PROXY_ROUTE.length)) };
  }
  return undefined;
}

/**
 * The path under the proxy we talk to, for a URI it serves: the host a URI may name is the
 * tracking server's own (Runlens is both), so it is not part of the path.
 */
export function proxyPath(uri: string): string | undefined {
  return parseProxyUri(uri)?.path;
}
