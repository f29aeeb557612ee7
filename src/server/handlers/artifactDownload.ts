/**
 * Sending one artifact file the way `mlflow server` does (`_send_artifact`): always as an
 * attachment (a browser must never render user data as a page of this origin), typed by
 * MLflow's `_guess_mime_type`, `nosniff`, `no-cache`, and MLflow's wording when the path is
 * missing or names a directory. Paths are store paths (`<exp>/<run>/artifacts/…`).
 */
import * as path from 'node:path';
import type { ArtifactRepository } from '../../backend/api/artifacts';
import { contentDispositionFor, contentTypeFor } from '../../store/artifacts/contentTypes';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import type { StreamResponse } from '../router';

/** `1/abc/artifacts` + `sub/x` → `1/abc/artifacts/sub/x` (an empty `rel` keeps the slash, as MLflow shows it). */
export function underRoot(root: string, rel: string): string {
  return `${root.replace(/\/+$/, '')}/${rel}`;
}

/**
 * Streams `storePath`. `downloadName` is the file name offered to the browser (MLflow uses the
 * last segment of the requested path).
 */
export async function sendArtifactFile(artifacts: ArtifactRepository, storePath: string, downloadName = path.posix.basename(storePath)): Promise<StreamResponse> {
  const found = await artifacts.inspect(storePath);
  if (found.kind === 'missing') throw doesNotExist(`No such artifact: '${storePath}'`);
  if (found.kind === 'dir') throw invalidParameter(`Artifact path refers to a directory, not a file: '${storePath}'`);
  const file = await artifacts.read(storePath);
  return {
    stream: file.stream,
    status: 200,
    headers: {
      'Content-Type': contentTypeFor(downloadName),
      'Content-Length': file.size,
      'Content-Disposition': contentDispositionFor(downloadName),
      'Last-Modified': new Date(found.mtimeMs).toUTCString(),
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // Beyond MLflow: should a browser still open one, it runs nothing as this origin.
      'Content-Security-Policy': "sandbox; default-src 'none'",
    },
  };
}
