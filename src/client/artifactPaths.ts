/**
 * Artifact paths as the client sends them (browser-safe: used by the views too). Reading an
 * artifact URI is domain/artifactUri.ts, shared with the server and the store.
 */

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
