/**
 * OTLP/HTTP `POST /v1/traces`, answered as MLflow's FastAPI endpoint (server/otel_api.py) does:
 * its statuses and `{"detail": ...}` bodies (here with MLflow's `error_code`/`message` beside
 * them), gzip and deflate bodies, and store errors in MLflow's REST error format.
 */
import * as zlib from 'node:zlib';
import type { TraceStore } from '../../backend/api/traces';
import { readBody } from '../requestBody';
import type { RawResponse, Router } from '../router';
import { decodeOtlpJson, decodeOtlpProtobuf, OtlpError } from './otlpDecode';

/** Largest OTLP export accepted (compressed or not); the OTel SDKs batch well below this. */
export const MAX_OTLP_BODY_BYTES = 64 * 1024 * 1024;
export const EXPERIMENT_ID_HEADER = 'x-mlflow-experiment-id';
export const RUN_ID_HEADER = 'x-mlflow-run-id';

function header(raw: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = raw.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function json(status: number, body: unknown): RawResponse {
  return { raw: true, status, contentType: 'application/json', body: JSON.stringify(body) };
}

/** FastAPI's answer to an error, plus the REST error fields clients of this server read. */
function refusal(err: OtlpError): RawResponse {
  const code = err.status === 413 ? 'INVALID_PARAMETER_VALUE' : err.status === 422 ? 'INVALID_PARAMETER_VALUE' : 'BAD_REQUEST';
  return json(err.status, { detail: err.detail, error_code: code, message: err.reason });
}

/** `decompress_otlp_body`: gzip, deflate (zlib-wrapped or raw), nothing else. */
function decompress(body: Buffer, encoding: string): Buffer {
  const opts = { maxOutputLength: MAX_OTLP_BODY_BYTES };
  const tooBig = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
  const overLimit = new OtlpError(413, `Decompressed body exceeds the limit of ${MAX_OTLP_BODY_BYTES} bytes.`);
  switch (encoding) {
    case 'gzip':
      try {
        return zlib.gunzipSync(body, opts);
      } catch (err) {
        if (tooBig(err)) throw overLimit;
        throw new OtlpError(400, 'Failed to decompress gzip payload');
      }
    case 'deflate':
      try {
        return zlib.inflateSync(body, opts);
      } catch (err) {
        if (tooBig(err)) throw overLimit;
        try {
          return zlib.inflateRawSync(body, opts);
        } catch (err2) {
          if (tooBig(err2)) throw overLimit;
          throw new OtlpError(400, 'Failed to decompress deflate payload');
        }
      }
    default:
      throw new OtlpError(400, `Unsupported Content-Encoding: ${encoding}`);
  }
}

export function registerOtlpRoute(router: Router, traces: TraceStore, linkToRun: (traceIds: string[], runId: string) => Promise<void>): void {
  router.plain(
    'POST',
    '/v1/traces',
    async ({ raw }): Promise<RawResponse> => {
      // Read the body first: a refusal then leaves nothing unread on a kept-alive connection.
      const body = await readBody(raw, MAX_OTLP_BODY_BYTES);
      try {
        const experimentId = header(raw, EXPERIMENT_ID_HEADER);
        if (experimentId === undefined || experimentId === '') {
          throw new OtlpError(422, [{ type: 'missing', loc: ['header', EXPERIMENT_ID_HEADER], msg: 'Field required', input: null }], `Missing header '${EXPERIMENT_ID_HEADER}'.`);
        }
        const contentType = header(raw, 'content-type');
        const media = contentType === undefined ? undefined : contentType.split(';')[0]!.trim();
        if (media !== 'application/x-protobuf' && media !== 'application/json') {
          throw new OtlpError(400, `Invalid Content-Type: ${contentType ?? 'None'}. Expected: application/x-protobuf or application/json`);
        }
        const encoding = header(raw, 'content-encoding');
        const plain = encoding ? decompress(body, encoding.toLowerCase()) : body;
        const spans = media === 'application/x-protobuf' ? decodeOtlpProtobuf(plain) : decodeOtlpJson(plain);
        if (spans.length > 0) {
          await traces.ingest(experimentId, spans);
          const runId = header(raw, RUN_ID_HEADER);
          const roots = [...new Set(spans.filter((s) => s.span.parent_span_id === null).map((s) => `tr-${s.traceIdHex}`))];
          // As MLflow: a failed link is logged by the server, never the exporter's problem.
          if (runId && roots.length) await linkToRun(roots, runId).catch(() => undefined);
        }
        // ExportTraceServiceResponse with no partial_success: an empty protobuf message.
        return { raw: true, status: 200, contentType: 'application/x-protobuf', body: Buffer.alloc(0) };
      } catch (err) {
        if (err instanceof OtlpError) return refusal(err);
        throw err;
      }
    },
    { rawBody: true },
  );
}
