/** Artifact locations as the client sees them (browser-safe: used by the views too). */

const PROXY_SCHEME = 'mlflow-artifacts:';

/** `mlflow-artifacts:/1/<run>/artifacts` → `1/<run>/artifacts`; undefined for stores the proxy does not serve. */
export function proxyPath(artifactUri: string): string | undefined {
  return artifactUri.startsWith(PROXY_SCHEME) ? artifactUri.slice(PROXY_SCHEME.length).replace(/^\/+/, '') : undefined;
}

/**
 * Why a path inside a run is refused, or undefined when it is fine. URL parsing would silently
 * resolve '..' (and '.') and reach outside the run, so such paths never leave the client.
 */
export function artifactPathProblem(artifactPath: string): string | undefined {
  if (artifactPath.startsWith('/') || /[\\\u0000]/.test(artifactPath) || artifactPath.split('/').some((s) => s === '..' || s === '.')) {
    return `Invalid artifact path '${artifactPath}': it must be relative and stay inside the run (no '..', '.', leading '/' or backslashes).`;
  }
  return undefined;
}
