/**
 * Where an artifact URI recorded by MLflow is on this machine. MLflow records whatever the client
 * or server had: a `file://` URI, a plain path (absolute, or relative to the directory MLflow ran
 * in, like `./mlruns/0`), or `mlflow-artifacts:/…`, which only the serving `mlflow server` could
 * resolve — against its `--artifacts-destination`, `./mlartifacts` by default.
 */
import * as path from 'node:path';
import type { ArtifactLocation } from '../api/source';

export interface ArtifactRoots {
  /** What relative paths are relative to: the directory MLflow ran in (for a store, its folder). */
  baseDir: string;
  /** Where `mlflow-artifacts:` URIs point: the serving `mlflow server`'s `--artifacts-destination`. */
  artifactsDestination: string;
}

/** Resolves `uri` to a local directory, or `dir: undefined` when it is remote or cannot be read here. */
export function resolveArtifactDir(uri: string, roots: ArtifactRoots): ArtifactLocation {
  return { uri, dir: localDir(uri, roots) };
}

function localDir(uri: string, roots: ArtifactRoots): string | undefined {
  if (uri === '') return undefined;
  const scheme = /^([a-zA-Z][\w+.-]*):/.exec(uri)?.[1];
  // `C:\runs\…` parses as scheme `C`: a drive letter, a local path only on Windows.
  if (scheme === undefined || scheme.length === 1) {
    if (scheme !== undefined && process.platform !== 'win32') return undefined;
    return path.resolve(roots.baseDir, uri);
  }
  const rest = uri.slice(scheme.length + 1);
  switch (scheme.toLowerCase()) {
    case 'file':
      return fileUriPath(rest, roots.baseDir);
    case 'mlflow-artifacts': {
      // `mlflow-artifacts:/p`, or with the serving host: `mlflow-artifacts://host:port/p`.
      const p = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
      return path.join(roots.artifactsDestination, ...decodeSegments(p));
    }
    default:
      return undefined;
  }
}

/** `file:///abs`, `file://localhost/abs`, `file:/abs`, `file:rel`; another host is not ours to read. */
function fileUriPath(rest: string, baseDir: string): string | undefined {
  let p = rest;
  if (p.startsWith('//')) {
    const host = /^\/\/([^/]*)/.exec(p)![1]!;
    if (host !== '' && host.toLowerCase() !== 'localhost') return undefined;
    p = p.slice(2 + host.length);
  }
  const query = p.search(/[?#]/);
  if (query >= 0) p = p.slice(0, query);
  const segments = decodeSegments(p);
  if (!p.startsWith('/')) return path.resolve(baseDir, ...segments);
  // `file:///C:/x` on Windows.
  if (process.platform === 'win32' && /^[a-zA-Z]:$/.test(segments[0] ?? '')) return path.join(...segments);
  return path.join('/', ...segments);
}

function decodeSegments(p: string): string[] {
  return p.split('/').filter((s) => s !== '').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
}
