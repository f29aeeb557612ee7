/**
 * The artifact routes the MLflow UI calls (outside the artifact proxy): `/get-artifact`,
 * `/model-versions/get-artifact`, `get-trace-artifact`, a logged model's artifact listing and
 * files, and `upload-artifact`. Each is served where `mlflow server` serves it (some only under
 * `/ajax-api/2.0`, the first two only at the root), validates `path` as MLflow does
 * (`validateRequestPath`) and then reads through the artifact store, which confines every path
 * to the store root.
 */
import { Readable } from 'node:stream';
import * as path from 'node:path';
import { proxyPath } from '../../domain/artifactUri';
import { validateRequestPath } from '../../store/artifacts/artifactPaths';
import { contentDispositionFor } from '../../store/artifacts/contentTypes';
import { MlflowError, doesNotExist, invalidParameter } from '../../domain/errors';
import { OTLP_SPANS_FILE, TRACE_FILE } from '../../backend/api/traces';
import type { TrackingStore } from '../../backend/api/tracking';
import { HttpError, readBody } from '../requestBody';
import { missingParameter, type Fields } from '../requestFields';
import type { RawResponse, Router } from '../router';
import { sendArtifactFile, underRoot } from './artifactDownload';

const AJAX_2 = ['/ajax-api/2.0'];
/** upload-artifact takes at most this much (MLflow's limit). */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Oversized uploads up to this size are read and discarded before the refusal goes out. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const TOO_LARGE = 'Artifact size is too large. Max size is 10MB.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The store path under an `mlflow-artifacts:` root, or NOT_IMPLEMENTED for any other location. */
function servedRoot(uri: string): string {
  const root = proxyPath(uri);
  if (root === undefined) {
    throw new MlflowError('NOT_IMPLEMENTED', `Serving artifacts at '${uri}' is not supported by this server: only mlflow-artifacts:/ locations are served.`);
  }
  return root;
}

function requiredPath(value: string | undefined, name: string): string {
  if (value === undefined) throw missingParameter(name);
  return validateRequestPath(value);
}

export function registerUiArtifactRoutes(router: Router, store: TrackingStore): void {
  const artifacts = store.artifacts;

  const runRoot = async (runId: string | undefined): Promise<{ root: string; uri: string }> => {
    // MLflow looks the run up even without an id, and reports it as such.
    if (!runId) throw doesNotExist('Run with id=None not found');
    const run = await store.getRun(runId);
    return { root: servedRoot(run.info.artifact_uri), uri: run.info.artifact_uri };
  };

  router.plain('GET', '/get-artifact', async ({ fields }) => {
    const rel = requiredPath(fields.string('path'), 'path');
    const { root } = await runRoot(fields.string('run_id') || fields.string('run_uuid'));
    return sendArtifactFile(artifacts, underRoot(root, rel), path.posix.basename(rel));
  });

  router.plain('GET', '/model-versions/get-artifact', async ({ fields }) => {
    const rel = requiredPath(fields.string('path'), 'path');
    const root = servedRoot(await store.registry.getDownloadUri(fields.string('name'), fields.string('version')));
    return sendArtifactFile(artifacts, underRoot(root, rel), path.posix.basename(rel));
  });

  router.api(
    'GET',
    '/mlflow/logged-models/:modelId/artifacts/directories',
    async ({ pathParams, fields }) => {
      const dir = fields.string('artifact_directory_path');
      const rel = dir === undefined ? '' : validateRequestPath(dir);
      const model = await store.loggedModels.get(pathParams.modelId!);
      const root = servedRoot(model.info.artifact_uri);
      const prefix = rel.replace(/\/+$/, '');
      const files = (await artifacts.list(underRoot(root, rel))).map((f) => ({ ...f, path: prefix ? `${prefix}/${f.path}` : f.path }));
      return { root_uri: model.info.artifact_uri, ...(files.length ? { files } : {}) };
    },
    { prefixes: ['/api/2.0', '/ajax-api/2.0'] },
  );

  router.api(
    'GET',
    '/mlflow/logged-models/:modelId/artifacts/files',
    async ({ pathParams, fields }) => {
      const file = fields.string('artifact_file_path');
      if (!file) throw new MlflowError('BAD_REQUEST', 'Request must include the "artifact_file_path" query parameter.');
      const rel = validateRequestPath(file);
      const model = await store.loggedModels.get(pathParams.modelId!);
      return sendArtifactFile(artifacts, underRoot(servedRoot(model.info.artifact_uri), rel), path.posix.basename(rel));
    },
    { prefixes: AJAX_2 },
  );

  const traceArtifact = async ({ fields }: { fields: Fields }): Promise<unknown> => {
    const traceId = fields.string('request_id');
    if (!traceId) throw new MlflowError('BAD_REQUEST', 'Request must include the "request_id" query parameter.');
    const attachment = fields.string('path');
    if (attachment) {
      const rel = validateRequestPath(attachment);
      if (!UUID.test(rel)) throw invalidParameter(`Invalid attachment path: '${rel}'. Attachment path must be a valid UUID.`);
      const dir = await store.traces.payloadPath(traceId);
      const at = `${dir}/attachments/${rel}`;
      if ((await artifacts.inspect(at)).kind !== 'file') throw doesNotExist(`No such artifact: 'attachments/${rel}'`);
      return sendArtifactFile(artifacts, at, rel);
    }
    let dir: string;
    try {
      dir = await store.traces.payloadPath(traceId);
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw doesNotExist(`Trace with ID ${traceId} is not found.`);
      throw err;
    }
    const uploaded = `${dir}/${TRACE_FILE}`;
    // The client's own upload goes out byte for byte; spans that came over OTLP are assembled.
    if ((await artifacts.inspect(`${dir}/${OTLP_SPANS_FILE}`)).kind !== 'file' && (await artifacts.inspect(uploaded)).kind === 'file') return sendArtifactFile(artifacts, uploaded);
    const body = JSON.stringify({ spans: await store.traces.readSpans(traceId) });
    const out: RawResponse = {
      raw: true,
      status: 200,
      contentType: 'text/plain',
      body,
      headers: { 'Content-Disposition': contentDispositionFor(TRACE_FILE), 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' },
    };
    return out;
  };
  router.api('GET', '/mlflow/get-trace-artifact', traceArtifact, { prefixes: ['/ajax-api/2.0', '/ajax-api/3.0'] });

  // The UI's upload of a file it built itself (e.g. an evaluation table): the body is the file.
  router.api(
    'POST',
    '/mlflow/upload-artifact',
    async ({ fields, raw }): Promise<RawResponse> => {
      const runId = fields.string('run_uuid');
      if (!runId) throw invalidParameter('Request must specify run_uuid.');
      const given = fields.string('path');
      if (!given) throw invalidParameter('Request must specify path.');
      const rel = validateRequestPath(given);
      const declared = Number(raw.headers['content-length'] ?? 0);
      if (declared > MAX_UPLOAD_BYTES) {
        // Let a modest body arrive first, so the client reads the 400 rather than a broken pipe.
        if (declared <= MAX_DRAIN_BYTES) await new Promise<void>((resolve) => raw.on('end', resolve).on('error', () => resolve()).resume());
        throw invalidParameter(TOO_LARGE);
      }
      let data: Buffer;
      try {
        data = await readBody(raw, MAX_UPLOAD_BYTES);
      } catch (err) {
        if (err instanceof HttpError) throw invalidParameter(TOO_LARGE);
        throw err;
      }
      if (data.length === 0) throw invalidParameter('Request must specify data.');
      const { root } = await runRoot(runId);
      await artifacts.write(underRoot(root, rel), Readable.from([data]));
      return { raw: true, status: 200, contentType: 'application/json', body: '' };
    },
    { rawBody: true, prefixes: AJAX_2 },
  );
}
