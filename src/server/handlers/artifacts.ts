/**
 * The artifact proxy (`/api/2.0/mlflow-artifacts/...`, what `mlflow server` serves by default)
 * and `/api/2.0/mlflow/artifacts/list`. Uploads and downloads stream; paths are validated by
 * the artifact store, which confines them to the store root.
 */
import * as path from 'node:path';
import { proxyPath } from '../../domain/artifactUri';
import { MlflowError } from '../../domain/errors';
import type { ArtifactFileInfo } from '../../backend/api/artifacts';
import { validateRequestPath } from '../../store/artifacts/artifactPaths';
import type { TrackingStore } from '../../backend/api/tracking';
import { readBody } from '../requestBody';
import { Fields, missingParameter } from '../requestFields';
import type { RawResponse, Router, StreamResponse } from '../router';
import { sendArtifactFile } from './artifactDownload';

/** Where the store serves an artifact root URI: the backend's own answer, else its proxy path. */
export function servedPathOf(store: TrackingStore, uri: string): string | undefined {
  return store.artifacts.locate ? store.artifacts.locate(uri) : proxyPath(uri);
}

function joinPath(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined && p !== '').join('/');
}

/** Largest traces.json accepted (it is parsed whole to index its spans). */
const MAX_TRACE_DATA_BYTES = 256 * 1024 * 1024;

/** The tracking API's listing (REST and GraphQL): paths relative to the run's artifact root. */
export async function listRunArtifacts(store: TrackingStore, runId: string, relPath: string | undefined): Promise<{ root_uri: string; files: ArtifactFileInfo[] }> {
  const run = await store.getRun(runId);
  const root = servedPathOf(store, run.info.artifact_uri);
  if (root === undefined) {
    throw new MlflowError('NOT_IMPLEMENTED', `Listing artifacts at '${run.info.artifact_uri}' is not supported by this server: only mlflow-artifacts:/ locations are served.`);
  }
  const rel = relPath ?? '';
  const files = (await store.artifacts.list(joinPath(root, rel))).map((f) => ({ ...f, path: joinPath(rel.replace(/\/+$/, ''), f.path) }));
  return { root_uri: run.info.artifact_uri, files };
}

export function registerArtifactRoutes(router: Router, store: TrackingStore): void {
  const artifacts = store.artifacts;
  /** A trace's traces.json is validated and indexed whole, so it never arrives in parts. */
  const refuseTraceData = async (target: string): Promise<void> => {
    if (await store.traces.traceForUpload(target)) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `'${target}' is a trace's span data: upload it with a single PUT, where it is validated.`);
    }
  };

  router.api(
    'PUT',
    '/mlflow-artifacts/artifacts/*path',
    async ({ pathParams, raw }) => {
      const traceId = await store.traces.traceForUpload(pathParams.path!);
      if (traceId) {
        // A trace's spans: validated and indexed before anything is kept.
        await store.traces.acceptTracesJson(traceId, await readBody(raw, MAX_TRACE_DATA_BYTES));
      } else {
        await artifacts.write(pathParams.path!, raw);
      }
      return {};
    },
    { rawBody: true },
  );

  // As MLflow's proxy sends it: typed like every artifact download, "No such artifact" when missing.
  router.api('GET', '/mlflow-artifacts/artifacts/*path', async ({ pathParams }): Promise<StreamResponse> => sendArtifactFile(artifacts, validateRequestPath(pathParams.path!)));

  router.api('GET', '/mlflow-artifacts/artifacts', async ({ fields }) => {
    const files = await artifacts.list(fields.string('path'));
    return files.length ? { files } : {};
  });

  router.api('DELETE', '/mlflow-artifacts/artifacts/*path', async ({ pathParams }) => {
    await artifacts.delete(pathParams.path!);
    return {};
  });

  // Multipart uploads: the client asks for part URLs, PUTs each part to them, then completes.
  router.api('POST', '/mlflow-artifacts/mpu/create/*path', async ({ pathParams, fields, raw }) => {
    const local = fields.requiredString('path');
    const numParts = fields.int('num_parts') ?? 1;
    const target = joinPath(pathParams.path, path.basename(local));
    await refuseTraceData(target);
    const { uploadId, parts } = await artifacts.createMultipart(target, numParts);
    const host = raw.headers.host ?? '127.0.0.1';
    return {
      upload_id: uploadId,
      credentials: parts.map((n) => ({ url: `http://${host}/api/2.0/mlflow-artifacts/mpu/part/${uploadId}/${n}`, part_number: n, headers: {} })),
    };
  });

  router.api(
    'PUT',
    '/mlflow-artifacts/mpu/part/:uploadId/:part',
    async ({ pathParams, raw }): Promise<RawResponse> => {
      const etag = await artifacts.writePart(pathParams.uploadId!, Number(pathParams.part), raw);
      return { raw: true, status: 200, contentType: 'application/json', body: '{}', headers: { ETag: etag } };
    },
    { rawBody: true },
  );

  router.api('POST', '/mlflow-artifacts/mpu/complete/*path', async ({ pathParams, fields }) => {
    const local = fields.requiredString('path');
    const uploadId = fields.requiredString('upload_id');
    const parts = fields.objects('parts').map((p, i) => {
      const n = new Fields(p, false).int('part_number');
      if (n === undefined) throw missingParameter(`parts[${i}].part_number`);
      return n;
    });
    if (parts.length === 0) throw missingParameter('parts');
    const target = joinPath(pathParams.path, path.basename(local));
    await refuseTraceData(target);
    await artifacts.completeMultipart(target, uploadId, parts);
    return {};
  });

  router.api('POST', '/mlflow-artifacts/mpu/abort/*path', async ({ fields }) => {
    await artifacts.abortMultipart(fields.requiredString('upload_id'));
    return {};
  });

  router.api('GET', '/mlflow/artifacts/list', async ({ fields }) => listRunArtifacts(store, fields.runId(), fields.string('path')));
}
