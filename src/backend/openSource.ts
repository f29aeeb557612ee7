/**
 * Opens whatever `runlens import <source>` names as an `MlflowSource`: an `http(s)://` MLflow
 * server over REST, or a local MLflow store (`mlflow.db`, a legacy `mlruns/` folder).
 */
import { openRestSource, type RestSourceOptions } from './remote/restSource';
import type { MlflowSource } from './api/source';
import { localPathOfUri } from './discover';
import { openMlflowSource } from './transfer/detect';

/** True when the source names a tracking server rather than a path. */
export function isServerUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** A server URL (auth and retry settings in `remote`), else a local store path. */
export function openSource(source: string, remote: RestSourceOptions = {}): Promise<MlflowSource> {
  return isServerUrl(source) ? openRestSource(source, remote) : openLocalSource(source);
}

/** A local MLflow store: an `mlflow.db` (or `sqlite:///…` URI) or a legacy `mlruns/` file store. */
export async function openLocalSource(path: string): Promise<MlflowSource> {
  const local = localPathOfUri(path, process.cwd());
  if (local === undefined) throw new Error(`'${path}' is neither a local MLflow store (an mlflow.db, a sqlite:/// or file:// URI, a legacy mlruns/ folder) nor an http(s) server.`);
  return openMlflowSource(local);
}
