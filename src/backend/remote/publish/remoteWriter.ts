/**
 * The write calls a publish makes on an MLflow server, in the shapes MLflow's own REST client
 * sends (`mlflow/store/tracking/rest_store.py`), within the server's request limits
 * (`log-batch`: 1000 metrics, 100 params, 100 tags, 1000 entities in all per call).
 */
import * as fs from 'node:fs';
import type { Experiment, Metric, Run, Tag } from '../../../domain/types';
import type { LoggedModel } from '../../../domain/modelTypes';
import type { Assessment, SpanDict, TraceInfo } from '../../../domain/traceTypes';
import { encodeSpans } from './otlpEncode';
import { proxyPath, PROXY_ROUTE } from '../../../domain/artifactUri';
import { RestError, type RestClient } from '../restClient';
import { allPages, loggedModelPages } from '../restPaging';
import * as wire from '../restWire';

export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100 } as const;

/** A metric value as protobuf JSON spells the non-finite ones. */
function wireValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export interface RemoteRunRef {
  runId: string;
  artifactUri: string;
  tags: Map<string, string>;
}

export class RemoteWriter {
  constructor(readonly client: RestClient) {}

  /** The experiment of that name, or undefined. */
  async experimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.client.json<{ experiment?: unknown }>('GET', '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: name });
      return r.experiment ? wire.experiment(r.experiment) : undefined;
    } catch (err) {
      if (err instanceof RestError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  async createExperiment(name: string, tags: Tag[]): Promise<string> {
    const r = await this.client.json<{ experiment_id?: string }>('POST', '/api/2.0/mlflow/experiments/create', { name, tags });
    if (!r.experiment_id) throw new Error(`the server created experiment '${name}' without answering its id`);
    return r.experiment_id;
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.client.json('POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: experimentId, key, value });
  }

  /** Runs of an experiment matching a filter, with the tags a publish keys on. */
  async *searchRuns(experimentId: string, filter: string): AsyncIterable<RemoteRunRef> {
    for await (const page of allPages(`runs of remote experiment ${experimentId}`, async (token) => {
      const r = await this.client.json<{ runs?: unknown[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/runs/search', {
        experiment_ids: [experimentId],
        filter,
        run_view_type: 'ACTIVE_ONLY',
        max_results: 1000,
        page_token: token,
      });
      return { items: (r.runs ?? []).map(wire.run), next: r.next_page_token };
    })) {
      for (const run of page) yield { runId: run.info.run_id, artifactUri: run.info.artifact_uri, tags: new Map(run.data.tags.map((t) => [t.key, t.value])) };
    }
  }

  async createRun(experimentId: string, run: Run, tags: Tag[]): Promise<RemoteRunRef> {
    const body: Record<string, unknown> = { experiment_id: experimentId, run_name: run.info.run_name, tags };
    if (run.info.start_time !== null) body.start_time = run.info.start_time;
    if (run.info.user_id) body.user_id = run.info.user_id;
    const r = await this.client.json<{ run?: unknown }>('POST', '/api/2.0/mlflow/runs/create', body);
    const created = wire.run(r.run);
    return { runId: created.info.run_id, artifactUri: created.info.artifact_uri, tags: new Map(tags.map((t) => [t.key, t.value])) };
  }

  async logBatch(runId: string, part: { metrics?: Metric[]; params?: Tag[]; tags?: Tag[] }): Promise<void> {
    await this.client.json('POST', '/api/2.0/mlflow/runs/log-batch', {
      run_id: runId,
      metrics: (part.metrics ?? []).map((m) => ({ key: m.key, value: wireValue(m.value), timestamp: m.timestamp, step: m.step })),
      params: part.params ?? [],
      tags: part.tags ?? [],
    });
  }

  async logInputs(runId: string, run: Run): Promise<void> {
    const datasets = run.inputs.dataset_inputs.map((d) => ({ tags: d.tags, dataset: d.dataset }));
    if (datasets.length) await this.client.json('POST', '/api/2.0/mlflow/runs/log-inputs', { run_id: runId, datasets });
  }

  async logOutputs(runId: string, models: { model_id: string; step: number }[]): Promise<void> {
    if (models.length) await this.client.json('POST', '/api/2.0/mlflow/runs/outputs', { run_id: runId, models });
  }

  async updateRun(runId: string, run: Run): Promise<void> {
    const body: Record<string, unknown> = { run_id: runId, run_uuid: runId, status: run.info.status };
    if (run.info.end_time !== null) body.end_time = run.info.end_time;
    await this.client.json('POST', '/api/2.0/mlflow/runs/update', body);
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.client.json('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, run_uuid: runId, key, value });
  }

  // ---- artifacts through the proxy ----------------------------------------------------------

  /** The proxy path of an artifact root, or undefined when the server does not proxy it (s3://, a local path of its own). */
  proxied(artifactUri: string): string | undefined {
    return proxyPath(artifactUri);
  }

  /** Files (relative path → size) under a proxied root. */
  async proxiedSizes(root: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const dirs = [''];
    while (dirs.length) {
      const dir = dirs.pop()!;
      const r = await this.client.json<{ files?: { path?: string; is_dir?: boolean; file_size?: number | string }[] }>('GET', PROXY_ROUTE, { path: dir ? `${root}/${dir}` : root });
      for (const f of r.files ?? []) {
        if (!f.path) continue;
        const rel = dir ? `${dir}/${f.path}` : f.path;
        if (f.is_dir) dirs.push(rel);
        else out.set(rel, wire.int(f.file_size));
      }
    }
    return out;
  }

  async upload(root: string, rel: string, file: string, size: number): Promise<void> {
    const target = `${root}/${rel}`.split('/').map(encodeURIComponent).join('/');
    await this.client.put(`${PROXY_ROUTE}/${target}`, { open: () => fs.createReadStream(file), size });
  }

  async uploadBytes(root: string, rel: string, bytes: Buffer): Promise<void> {
    const target = `${root}/${rel}`.split('/').map(encodeURIComponent).join('/');
    const { Readable } = await import('node:stream');
    await this.client.put(`${PROXY_ROUTE}/${target}`, { open: () => Readable.from([bytes]), size: bytes.length });
  }

  // ---- logged models ------------------------------------------------------------------------

  async *loggedModels(experimentId: string): AsyncIterable<LoggedModel> {
    try {
      for await (const page of loggedModelPages(this.client, `logged models of remote experiment ${experimentId}`, experimentId)) yield* page;
    } catch (err) {
      if (!(err instanceof RestError && err.endpointMissing)) throw err;
    }
  }

  async createLoggedModel(experimentId: string, model: LoggedModel, sourceRunId: string | undefined, tags: Tag[]): Promise<LoggedModel> {
    const r = await this.client.json<{ model?: unknown }>('POST', '/api/2.0/mlflow/logged-models', {
      experiment_id: experimentId,
      name: model.info.name,
      model_type: model.info.model_type,
      source_run_id: sourceRunId,
      params: model.data.params,
      tags,
    });
    return wire.loggedModel(r.model);
  }

  async finalizeLoggedModel(modelId: string, status: string): Promise<void> {
    await this.client.json('PATCH', `/api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}`, { model_id: modelId, status });
  }

  // ---- traces -------------------------------------------------------------------------------

  async traceExists(traceId: string): Promise<boolean> {
    try {
      await this.client.json('GET', `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}`, {});
      return true;
    } catch (err) {
      if (err instanceof RestError && (err.errorCode === 'RESOURCE_DOES_NOT_EXIST' || err.status === 404)) return false;
      throw err;
    }
  }

  /** StartTraceV3, as the client's exporter sends it; answers the stored info (with the artifact location tag). */
  async startTrace(info: Omit<TraceInfo, 'assessments'>): Promise<TraceInfo> {
    const r = await this.client.json<{ trace?: { trace_info?: unknown } }>('POST', '/api/3.0/mlflow/traces', { trace: { trace_info: info } });
    return wire.traceInfoV3(r.trace?.trace_info);
  }

  /** Spans through the server's OTLP endpoint (protobuf only on MLflow's), for servers that keep spans in their database. */
  async logSpans(experimentId: string, spans: SpanDict[]): Promise<number> {
    const body = encodeSpans(spans);
    const { Readable } = await import('node:stream');
    await this.client.put('/v1/traces', { open: () => Readable.from([body]), size: body.length, contentType: 'application/x-protobuf', headers: { 'x-mlflow-experiment-id': experimentId } }, 'POST');
    return body.length;
  }

  async createAssessment(traceId: string, a: Assessment): Promise<void> {
    const { assessment_id: _id, ...rest } = a as Assessment & { assessment_id?: string };
    await this.client.json('POST', `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments`, { assessment: { ...rest, trace_id: traceId } });
  }
}
