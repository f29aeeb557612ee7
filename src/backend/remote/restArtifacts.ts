/**
 * Artifact files through the server's own routes, so any artifact URI the server can read works
 * (its local folders, `mlflow-artifacts:` under its `--artifacts-destination`, S3 and the rest
 * with the server's credentials), not only what this machine could open.
 *
 * - runs: listed with `GET /api/2.0/mlflow/artifacts/list` (one directory per call, recursed),
 *   downloaded with `GET /get-artifact?path=&run_uuid=` — the route MLflow's UI uses; its handler
 *   serves proxied (`mlflow-artifacts:`) roots from the artifacts destination and any other root
 *   through the run's artifact repository (`get_artifact_handler` in mlflow/server/handlers.py).
 * - logged models (3.x): `GET /api/2.0/mlflow/logged-models/<id>/artifacts/directories` and
 *   `GET /ajax-api/2.0/mlflow/logged-models/<id>/artifacts/files`, which resolve the same way.
 */
import type { Readable } from 'node:stream';
import type { RemoteArtifacts } from '../api/source';
import type { RestClient } from './restClient';
import { allPages } from './restPaging';

interface FileInfo {
  path?: string;
  is_dir?: boolean;
}

interface Listing {
  files?: FileInfo[];
  next_page_token?: string;
}

type ListDir = (dir: string | undefined, token: string | undefined) => Promise<Listing>;

/** Every file under a root, depth first; `list` returns one directory's entries with paths relative to the root. */
async function* walk(what: string, list: ListDir): AsyncIterable<string> {
  const dirs: (string | undefined)[] = [undefined];
  const seen = new Set<string>();
  while (dirs.length) {
    const dir = dirs.pop();
    const files: string[] = [];
    for await (const page of allPages(what, async (token) => {
      const l = await list(dir, token);
      return { items: l.files ?? [], next: l.next_page_token };
    })) {
      for (const f of page) {
        if (!f.path) continue;
        // Servers answer with the path from the root; a server that answered with the bare name is joined here.
        const rel = dir && !f.path.startsWith(`${dir}/`) ? `${dir}/${f.path}` : f.path;
        if (f.is_dir) {
          // A listing that names its own directory (some artifact repositories do) would recurse forever.
          if (rel !== dir && !seen.has(rel)) {
            seen.add(rel);
            dirs.push(rel);
          }
        } else files.push(rel);
      }
    }
    yield* files.sort();
  }
}

export function runArtifacts(client: RestClient, runId: string): RemoteArtifacts {
  return {
    files: () =>
      walk(`artifacts of run ${runId}`, (dir, token) =>
        client.json<Listing>('GET', '/api/2.0/mlflow/artifacts/list', { run_id: runId, run_uuid: runId, path: dir, page_token: token }),
      ),
    open: (rel: string): Promise<Readable> => client.download('/get-artifact', { path: rel, run_uuid: runId }),
  };
}

export function loggedModelArtifacts(client: RestClient, modelId: string): RemoteArtifacts {
  const base = `/mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts`;
  return {
    files: () =>
      walk(`artifacts of logged model ${modelId}`, (dir, token) =>
        client.json<Listing>('GET', `/api/2.0${base}/directories`, { artifact_directory_path: dir, page_token: token }),
      ),
    open: (rel: string): Promise<Readable> => client.download(`/ajax-api/2.0${base}/files`, { artifact_file_path: rel }),
  };
}
