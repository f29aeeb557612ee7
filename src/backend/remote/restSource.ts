/**
 * An MLflow tracking server (MLflow's own `mlflow server`, 2.x or 3.x, or Runlens's, which speaks
 * the same API) read over REST as an `MlflowSource`, for `runlens import http(s)://…`.
 *
 * Everything is paged with the server's own page tokens and streamed entity by entity, so the
 * store is never held in memory; requests are bounded (see restClient.ts). Metric histories go
 * through `metrics/get-history` with `max_results` set as the client sets it (25,000 a page):
 * 2.x servers ignore it and answer the whole history, 3.x servers page, and some 3.x servers
 * (3.6's handler reads an unset `max_results` as 0) answer a request *without* it with an empty
 * page and a token pointing back at itself.
 */
import type { LoggedModel, ModelVersion } from '../../domain/modelTypes';
import type { Experiment, Metric } from '../../domain/types';
import type { ArtifactLocation, MlflowSource, SourceRegisteredModel, SourceRun, SourceTrace } from '../api/source';
import { loggedModelArtifacts, runArtifacts } from './restArtifacts';
import { RestClient, RestError, type RestClientOptions } from './restClient';
import { allPages, loggedModelPages } from './restPaging';
import { RestTraces } from './restTraces';
import * as wire from './restWire';

export type RestSourceOptions = RestClientOptions;

/** The client's GET_METRIC_HISTORY_MAX_RESULTS. */
const HISTORY_PAGE = 25_000;
const PROMPT_TAG = 'mlflow.prompt.is_prompt';
const PROMPT_FILTER = `tags.\`${PROMPT_TAG}\` = 'true'`;
/** Runs whose histories are fetched ahead, once the importer asks for a history (not while it skips runs it has). */
const RUNS_AHEAD = 4;

interface HistoryPage {
  metrics: Metric[];
  next: string | undefined;
}

/** Opens a server: checks that it answers like MLflow (and with the credentials given) before anything is read. */
export async function openRestSource(baseUrl: string, opts: RestSourceOptions = {}): Promise<MlflowSource> {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new RestError(`'${baseUrl}' is not a URL; give the server's address, e.g. http://127.0.0.1:5000`, 0, 'BAD_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RestError(`'${baseUrl}' is not an http(s) URL`, 0, 'BAD_URL');
  const client = new RestClient(url.toString(), opts);
  let probe: unknown;
  try {
    probe = await client.json<unknown>('POST', '/api/2.0/mlflow/experiments/search', { max_results: 1, view_type: 'ALL' });
  } catch (err) {
    // Not found, or refused without MLflow's JSON error body (and not a busy server): some other web server, or a path below the base URL.
    const foreign = err instanceof RestError && (err.status === 404 || (err.errorCode.startsWith('HTTP_') && err.status < 500) || err.status === 501);
    if (foreign) {
      throw new RestError(
        `${client.baseUrl} does not look like an MLflow tracking server: POST /api/2.0/mlflow/experiments/search answered ${err.status}. Give the server's base URL (e.g. http://host:5000), without /api or a UI path.`,
        err.status,
        'NOT_MLFLOW',
      );
    }
    throw err;
  }
  if (!probe || typeof probe !== 'object' || Array.isArray(probe)) {
    throw new RestError(`${client.baseUrl} does not look like an MLflow tracking server: experiments/search answered ${JSON.stringify(probe).slice(0, 80)}`, 200, 'NOT_MLFLOW');
  }
  const version = await serverVersion(client);
  return new RestSource(client, version);
}

async function serverVersion(client: RestClient): Promise<string | undefined> {
  try {
    const s = await client.download('/version', {});
    let text = '';
    for await (const chunk of s) text += String(chunk);
    return /^\d+\.\d+[\w.+-]*$/.test(text.trim()) ? text.trim() : undefined;
  } catch {
    return undefined; // servers before 2.x's /version, or behind a proxy that hides it
  }
}

class RestSource implements MlflowSource {
  readonly kind = 'mlflow-server' as const;
  readonly description: string;
  private readonly skips = new Map<string, number>();
  private readonly traceReader: RestTraces;
  /** Latest-metric keys of the runs listed, so a history needs no extra `runs/get`. */
  private readonly keysByRun = new Map<string, string[]>();
  /**
   * The current page's run ids in order, and the first page of each metric of the next few runs'
   * histories, fetched ahead: at most RUNS_AHEAD runs × their keys × one history page in memory.
   */
  private page: string[] = [];
  private pageIndex = new Map<string, number>();
  private readonly ahead = new Map<string, Promise<HistoryPage[]>>();
  private noLoggedModels = false;

  constructor(
    private readonly client: RestClient,
    version: string | undefined,
  ) {
    this.description = `MLflow server ${client.baseUrl}${version ? ` (version ${version})` : ''}`;
    this.traceReader = new RestTraces(client, (why, n) => this.skip(why, n));
  }

  skipped(): ReadonlyMap<string, number> {
    return this.skips;
  }

  private skip(why: string, n = 1): void {
    this.skips.set(why, (this.skips.get(why) ?? 0) + n);
  }

  async *experiments(): AsyncIterable<Experiment> {
    for await (const page of allPages('experiments', async (token) => {
      const r = await this.client.json<{ experiments?: unknown[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/experiments/search', {
        view_type: 'ALL',
        max_results: 1000,
        page_token: token,
      });
      return { items: (r.experiments ?? []).map(wire.experiment), next: r.next_page_token };
    })) {
      yield* page;
    }
  }

  async *runs(experimentId: string): AsyncIterable<SourceRun> {
    for await (const page of allPages(`runs of experiment ${experimentId}`, async (token) => {
      const r = await this.client.json<{ runs?: unknown[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/runs/search', {
        experiment_ids: [experimentId],
        run_view_type: 'ALL',
        max_results: 1000,
        page_token: token,
      });
      return { items: (r.runs ?? []).map(wire.run), next: r.next_page_token };
    })) {
      this.page = page.map((r) => r.info.run_id);
      this.pageIndex = new Map(this.page.map((id, i) => [id, i]));
      this.ahead.clear();
      this.keysByRun.clear();
      for (const run of page) this.keysByRun.set(run.info.run_id, [...new Set(run.data.metrics.map((m) => m.key))]);
      yield* page;
    }
    this.page = [];
    this.pageIndex = new Map();
    this.ahead.clear();
    this.keysByRun.clear();
  }

  async *metricHistory(runId: string): AsyncIterable<Metric[]> {
    const at = this.pageIndex.get(runId);
    if (at !== undefined) {
      // Runs behind this one (skipped by the importer) will not be asked for again.
      for (const id of this.ahead.keys()) if ((this.pageIndex.get(id) ?? -1) < at) this.ahead.delete(id);
      for (const next of this.page.slice(at + 1, at + 1 + RUNS_AHEAD)) if (!this.ahead.has(next)) this.ahead.set(next, this.firstPages(next));
    }
    const first = this.ahead.get(runId) ?? this.firstPages(runId);
    this.ahead.delete(runId);
    for (const page of await first) {
      if (page.metrics.length) yield page.metrics;
      let token = page.next;
      const key = page.metrics[0]?.key;
      const seen = new Set<string>();
      while (token !== undefined && key !== undefined) {
        if (seen.has(token)) throw new Error(`history of '${key}' in run ${runId}: the server returned the same page token twice; stopping instead of looping`);
        seen.add(token);
        const p = await this.historyPage(runId, key, token);
        if (p.metrics.length) yield p.metrics;
        token = p.next;
      }
    }
  }

  /** The first page of each of a run's metrics, requested together (bounded by the client). */
  private firstPages(runId: string): Promise<HistoryPage[]> {
    const p = (async (): Promise<HistoryPage[]> => {
      let keys = this.keysByRun.get(runId);
      if (keys === undefined) {
        const r = await this.client.json<{ run?: unknown }>('GET', '/api/2.0/mlflow/runs/get', { run_id: runId, run_uuid: runId });
        keys = [...new Set(wire.run(r.run).data.metrics.map((m) => m.key))];
      }
      return Promise.all(keys.map((k) => this.historyPage(runId, k, undefined)));
    })();
    p.catch(() => undefined); // awaited when the history is asked for; fetched ahead it may never be
    return p;
  }

  private async historyPage(runId: string, key: string, token: string | undefined): Promise<HistoryPage> {
    const r = await this.client.json<{ metrics?: unknown[]; next_page_token?: string }>('GET', '/api/2.0/mlflow/metrics/get-history', {
      run_id: runId,
      run_uuid: runId,
      metric_key: key,
      max_results: HISTORY_PAGE,
      page_token: token,
    });
    const metrics = (r.metrics ?? []).map(wire.metric);
    // An empty page with a token is the 3.x paging bug above; there is nothing more to read.
    return { metrics, next: metrics.length && r.next_page_token ? r.next_page_token : undefined };
  }

  runArtifacts(run: SourceRun): ArtifactLocation {
    return { dir: undefined, uri: run.info.artifact_uri, remote: runArtifacts(this.client, run.info.run_id) };
  }

  /**
   * Registered models, then prompts: MLflow 3's registry search hides prompts (registered models
   * tagged `mlflow.prompt.is_prompt`) and their versions unless the filter asks for that tag.
   * Servers that do not hide them (2.x, Runlens) list them in the first pass; names seen once
   * are not yielded again.
   */
  async *registeredModels(): AsyncIterable<SourceRegisteredModel> {
    const seen = new Set<string>();
    for (const filter of [undefined, PROMPT_FILTER]) {
      for await (const page of allPages('registered models', async (token) => {
        const r = await this.client.json<{ registered_models?: unknown[]; next_page_token?: string }>('GET', '/api/2.0/mlflow/registered-models/search', {
          max_results: 1000,
          filter,
          page_token: token,
        });
        return { items: (r.registered_models ?? []).map(wire.registeredModel), next: r.next_page_token };
      })) {
        for (const model of page) {
          if (seen.has(model.name)) continue;
          seen.add(model.name);
          const prompt = model.tags.some((t) => t.key === PROMPT_TAG && t.value.toLowerCase() === 'true');
          yield { model, versions: await this.versions(model.name, prompt) };
        }
      }
    }
  }

  private async versions(name: string, prompt: boolean): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    for await (const vs of allPages(`versions of model ${name}`, async (token) => {
      const r = await this.client.json<{ model_versions?: unknown[]; next_page_token?: string }>('GET', '/api/2.0/mlflow/model-versions/search', {
        filter: `name=${quoteFilter(name)}${prompt ? ` AND ${PROMPT_FILTER}` : ''}`,
        max_results: 10_000,
        page_token: token,
      });
      return { items: (r.model_versions ?? []).map(wire.modelVersion), next: r.next_page_token };
    })) {
      versions.push(...vs);
    }
    return versions;
  }

  async *loggedModels(experimentId: string): AsyncIterable<LoggedModel> {
    if (this.noLoggedModels) return;
    try {
      for await (const page of loggedModelPages(this.client, `logged models of experiment ${experimentId}`, experimentId)) yield* page;
    } catch (err) {
      // A 2.x server has no logged models (the endpoint is 3.x's): none to import.
      if (!(err instanceof RestError && err.endpointMissing)) throw err;
      this.noLoggedModels = true;
    }
  }

  loggedModelArtifacts(model: LoggedModel): ArtifactLocation {
    return { dir: undefined, uri: model.info.artifact_uri, remote: loggedModelArtifacts(this.client, model.info.model_id) };
  }

  traces(experimentId: string): AsyncIterable<SourceTrace> {
    return this.traceReader.traces(experimentId);
  }

  async close(): Promise<void> {
    this.ahead.clear();
  }
}

/** A registered-model name as a filter string literal (MLflow's parser takes either quote). */
function quoteFilter(name: string): string {
  if (!name.includes("'")) return `'${name}'`;
  if (!name.includes('"')) return `"${name}"`;
  return `'${name.replace(/'/g, "\\'")}'`;
}
