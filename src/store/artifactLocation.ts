/**
 * An experiment's `artifact_location` as MLflow's server stores it (`create_experiment` with
 * `resolve_uri_if_local`): a relative local path, bare or `file:`, is made absolute against the
 * server's working directory, so every client later reads the same place; other URIs are kept.
 */
import { invalidParameter } from '../domain/errors';

/** pathlib's joining: '.' segments and repeated or trailing slashes go, '..' stays. */
function joinPosix(base: string, rel: string): string {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  return [base.replace(/\/+$/, ''), ...parts].join('/') || '/';
}

export function validateArtifactLocation(location: string): void {
  if (location.includes('#')) throw invalidParameter("'artifact_location' URL can't include fragments or params.");
  if (location.startsWith('runs:')) throw invalidParameter(`Artifact location cannot be a runs:/ URI. Given: '${location}'`);
}

export function resolveArtifactLocation(location: string, cwd: string): string {
  const scheme = /^([a-zA-Z][\w+.-]*):/.exec(location)?.[1];
  if (scheme === undefined) return location.startsWith('/') ? location : joinPosix(cwd, location);
  if (scheme.toLowerCase() !== 'file') return location;
  // `file:rel` and `file:./rel` are relative; `file:/abs`, `file:///abs`, `file://host/abs` are not.
  const rest = location.slice(scheme.length + 1);
  if (rest.startsWith('/')) return location;
  return `file://${joinPosix(cwd, rest)}`;
}
