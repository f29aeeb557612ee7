/**
 * Which sources a model version may have (MLflow 3.x server, `_validate_source_run` /
 * `_validate_source_model`): the request must name what holds the source. A `runs:/<id>/…`
 * source needs `run_id` = that id (the run need not exist: MLflow does not look it up), a
 * logged model's `models:/m-…` source needs that `model_id`, and a local path or an
 * `mlflow-artifacts` URI must lie inside the named run's (or model's) artifact location.
 */
import * as path from 'node:path';
import { proxyPath } from '../../domain/artifactUri';
import { invalidParameter } from '../../domain/errors';

export interface SourceLookups {
  runArtifactUri(runId: string): string | undefined;
  /** The run's artifact directory on this machine, or undefined when the run does not exist. */
  runArtifactDir(runId: string): string | undefined;
  modelArtifactLocation(modelId: string): string | undefined;
  /** Local directory behind `mlflow-artifacts:/`. */
  artifactRootDir: string;
}

/** The logged-model id in a `models:/m-<id>` source, if that is what it is. */
export function loggedModelIdIn(source: string): string | undefined {
  return /^models:\/(m-[0-9a-f]+)\/?$/.exec(source)?.[1];
}

/** Percent-decodes until nothing changes (a `%252e` is a `.` too). */
function fullyDecoded(source: string): string {
  let s = source;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
    if (next === s) return s;
    s = next;
  }
  return s;
}

/** `scheme`, `authority` and decoded path segments of a URI, lower-casing what URIs compare case-blind. */
function uriParts(uri: string): { scheme: string; authority: string; segments: string[] } {
  const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)/.exec(uri);
  if (!m) return { scheme: '', authority: '', segments: [] };
  return { scheme: m[1]!.toLowerCase(), authority: (m[2] ?? '').toLowerCase(), segments: m[3]!.split('/').filter(Boolean).map(fullyDecoded) };
}

/** An `mlflow-artifacts:` URI, or an http(s) URL into a tracking server's artifact route. */
function isMlflowArtifactsUri(source: string): boolean {
  const { scheme, segments } = uriParts(source);
  if (scheme === 'mlflow-artifacts') return true;
  if (scheme !== 'http' && scheme !== 'https') return false;
  return segments.some((_, i) => segments.slice(i, i + 4).join('/') === 'api/2.0/mlflow-artifacts/artifacts');
}

function uriWithin(source: string, root: string): boolean {
  const s = uriParts(source);
  const r = uriParts(root);
  return s.scheme === r.scheme && s.authority === r.authority && r.segments.length > 0 && r.segments.every((seg, i) => s.segments[i] === seg);
}

export function validateVersionSource(source: string, runId: string | undefined, modelId: string | undefined, lookups: SourceLookups): void {
  if (!source) throw invalidParameter("Missing value for required parameter 'source'.");
  const unidentified = (owner: 'run_id' | 'model_id'): Error =>
    invalidParameter(`Invalid model version source: '${source}'. The ${owner} request parameter must identify the resource that contains the source.`);
  const owner = modelId ? 'model_id' : 'run_id';
  const scheme = /^([a-zA-Z][\w+.-]*):/.exec(source)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file' || /^[a-zA-Z]$/.test(scheme)) {
    const local = path.resolve(source.replace(/^file:(\/\/)?/, ''));
    let dir: string | undefined;
    if (modelId) {
      const loc = lookups.modelArtifactLocation(modelId);
      if (loc === undefined) throw unidentified('model_id');
      const rel = proxyPath(loc);
      dir = rel === undefined ? undefined : path.join(lookups.artifactRootDir, ...rel.split('/'));
    } else if (runId) {
      dir = lookups.runArtifactDir(runId);
      if (dir === undefined) throw unidentified('run_id');
    }
    if (!dir || (local !== dir && !local.startsWith(dir + path.sep))) {
      throw invalidParameter(
        `Invalid model version source: '${source}'. To use a local path as a model version source, the ${owner} request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the ${owner}.`,
      );
    }
    return;
  }
  if (fullyDecoded(source).split(/[/\\]/).includes('..') || source.includes('\0')) {
    throw invalidParameter(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
  if (scheme === 'runs') {
    const id = /^runs:\/([^/]+)/.exec(source)?.[1];
    if (modelId || source.startsWith('runs://') || !id || id !== runId) throw unidentified(owner);
    return;
  }
  const loggedId = loggedModelIdIn(source);
  if (scheme === 'models' && (source.startsWith('models://') || (loggedId !== undefined && loggedId !== modelId))) throw unidentified('model_id');
  if (isMlflowArtifactsUri(source)) {
    const root = modelId ? lookups.modelArtifactLocation(modelId) : runId ? lookups.runArtifactUri(runId) : undefined;
    if (root === undefined || !uriWithin(source, root)) throw unidentified(owner);
  }
}
