/**
 * An experiment's traces from a server, with their assessments and spans.
 *
 * Infos: `POST /api/3.0/mlflow/traces/search` (3.x), then `GET /api/3.0/mlflow/traces/<id>` for
 * each trace's full info with all its assessments, as the client's `get_trace_info` does. A 2.x
 * server answers the search with ENDPOINT_NOT_FOUND; then, like the client, the 2.0 search
 * (`GET /api/2.0/mlflow/traces`), whose infos carry no assessments (2.x had none).
 *
 * Spans: `GET /ajax-api/2.0/mlflow/get-trace-artifact?request_id=`, the route MLflow's own UI
 * loads a trace with. The client picks where spans live itself (the tracking store through
 * `traces/get` in OTel proto JSON, else `traces.json` from the trace's artifact location); this
 * handler makes the same choice on the server (`get_trace_artifact_handler`: store, archive, or
 * artifact repository) and always answers `{"spans": [Span.to_dict()…]}` — the format the store
 * takes — on every server since 2.14, for locations only the server can read too. Where that
 * route is not served, a trace whose artifact location is `mlflow-artifacts:` is read as the
 * client reads it, through the artifact proxy.
 */
import type { SpanDict, TraceInfo } from '../../domain/traceTypes';
import type { SourceTrace } from '../api/source';
import { RestError, type RestClient } from './restClient';
import { allPages, mapAhead } from './restPaging';
import { traceInfoV3 } from './restWire';
import { traceInfoFromV2 } from '../../domain/traceV2';
import { proxyPath as proxyPathOf } from '../../domain/artifactUri';

/** Traces whose info and spans are fetched ahead of the importer. */
const TRACES_AHEAD = 4;

export class RestTraces {
  /** undefined until a search tells: 3 (v3 endpoints), 2 (v2 only), 0 (no trace endpoints at all). */
  private api: 3 | 2 | 0 | undefined;
  private spanRoute = true;

  constructor(
    private readonly client: RestClient,
    private readonly skip: (why: string, n?: number) => void,
  ) {}

  async *traces(experimentId: string): AsyncIterable<SourceTrace> {
    for await (const page of this.infoPages(experimentId)) {
      yield* mapAhead(page, TRACES_AHEAD, (info) => this.full(info));
    }
  }

  private async *infoPages(experimentId: string): AsyncIterable<TraceInfo[]> {
    if (this.api === undefined || this.api === 3) {
      try {
        for await (const page of allPages(`traces of experiment ${experimentId}`, async (token) => {
          const r = await this.client.json<{ traces?: unknown[]; next_page_token?: string }>('POST', '/api/3.0/mlflow/traces/search', {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
            max_results: 500,
            page_token: token,
          });
          this.api = 3;
          return { items: (r.traces ?? []).map(traceInfoV3), next: r.next_page_token };
        })) {
          yield page;
        }
        return;
      } catch (err) {
        if (!(this.api === undefined && err instanceof RestError && err.endpointMissing)) throw err;
        this.api = 2;
      }
    }
    if (this.api === 2) {
      try {
        for await (const page of allPages(`traces of experiment ${experimentId}`, async (token) => {
          const r = await this.client.json<{ traces?: unknown[]; next_page_token?: string }>('GET', '/api/2.0/mlflow/traces', {
            experiment_ids: [experimentId],
            max_results: 500,
            page_token: token,
          });
          return { items: (r.traces ?? []).map(traceInfoFromV2), next: r.next_page_token };
        })) {
          yield page;
        }
      } catch (err) {
        if (!(err instanceof RestError && err.endpointMissing)) throw err;
        // MLflow before 2.14 has no traces; nothing to import, but say so once.
        this.api = 0;
        this.skip('traces: this server has no trace endpoints (MLflow older than 2.14)');
      }
    }
  }

  private async full(searched: TraceInfo): Promise<SourceTrace> {
    let info = searched;
    if (this.api === 3) {
      const r = await this.client.json<{ trace?: { trace_info?: unknown } }>('GET', `/api/3.0/mlflow/traces/${encodeURIComponent(searched.trace_id)}`);
      if (r.trace?.trace_info) info = traceInfoV3(r.trace.trace_info);
    }
    return { info, spans: await this.spans(info) };
  }

  private async spans(info: TraceInfo): Promise<SpanDict[]> {
    const id = info.trace_id;
    try {
      if (this.spanRoute) {
        try {
          return spansOf(await this.client.json<unknown>('GET', '/ajax-api/2.0/mlflow/get-trace-artifact', { request_id: id }), id);
        } catch (err) {
          if (!(err instanceof RestError && err.endpointMissing)) throw err;
          this.spanRoute = false;
        }
      }
      const proxied = proxyPath(info.tags['mlflow.artifactLocation']);
      if (proxied === undefined) {
        this.skip('trace spans: the server serves no trace data route and the trace\'s artifact location is not proxied');
        return [];
      }
      return spansOf(await this.client.json<unknown>('GET', `/api/2.0/mlflow-artifacts/artifacts/${proxied}/traces.json`), id);
    } catch (err) {
      // A trace whose spans were never uploaded (a crashed client) is still worth its info and assessments.
      if (err instanceof RestError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST' || err.errorCode === 'BAD_REQUEST')) {
        this.skip('trace spans the server does not have (imported the trace without them)');
        return [];
      }
      throw err;
    }
  }
}

/**
 * The `spans` of a traces.json body. 2.x clients wrote spans in 2.x's own dict shape (`context`,
 * `parent_id`, …); they pass through as they are, since the store reads both shapes.
 */
function spansOf(body: unknown, traceId: string): SpanDict[] {
  const spans = (body as { spans?: unknown } | null)?.spans;
  if (!Array.isArray(spans)) throw new RestError(`trace ${traceId}: the server's trace data has no 'spans' list`, 200, 'NOT_MLFLOW');
  return spans as SpanDict[];
}

/** The proxy path of an `mlflow-artifacts:` URI, %-encoded per segment for a request URL. */
function proxyPath(uri: string | undefined): string | undefined {
  const p = uri === undefined ? undefined : proxyPathOf(uri);
  return p === undefined ? undefined : p.split('/').map(encodeURIComponent).join('/');
}
