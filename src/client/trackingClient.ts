/**
 * A typed client for the MLflow REST API as the extension uses it. It talks to whichever server
 * serves the workspace store — the embedded one, another window's, or `runlens serve` — so every
 * view behaves the same whether this window owns the store or attached to it.
 */
import type {
  ViewType,
  WireAssessment,
  WireChartSeries,
  WireDatasetRecord,
  WireEvalDataset,
  WireExperiment,
  WireFileInfo,
  WireModelVersion,
  WireRegisteredModel,
  WireRun,
  WireRunInfo,
  WireRunStatus,
  WireSessionSummary,
  WireSpan,
  WireTraceInfo,
} from './wireTypes';
import { apiError, TrackingApiError } from './trackingApiError';
import { JsonItems } from './jsonItems';
import { countTraces, historySeriesBulk, PlainSeries, searchTracesV2, TRACE_SCAN_CAP, traceSessions, traceWithSpans } from './plainMlflow';

export { apiError, TrackingApiError } from './trackingApiError';

export interface RunPage {
  runs: WireRun[];
  nextPageToken?: string;
}

export interface SearchRunsQuery {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
}

const API = '/api/2.0/mlflow';

/** An import job of `POST /runlens/api/import`, as the server reports it. */
export interface WireImportJob {
  job_id: string;
  source: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  progress: { experiments?: number; runs: number; metric_points: number; artifacts: number; traces: number };
  summary?: string;
  skipped?: string[];
  error?: string;
}

export class TrackingClient {
  /** `headers` go on every request: a team server's Authorization, never logged. */
  /** Runlens-only routes this server answered 404 for: a plain `mlflow server`; asked once, then read through MLflow's routes. */
  private readonly missingRoutes = new Set<string>();
  /** Chart series read from such a server, for charts redrawn or read again as a run grows. */
  private readonly histories = new PlainSeries();
  /** Set on a client made by `withSignal`: every fetch takes it. */
  private readonly signal: AbortSignal | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly headers: Readonly<Record<string, string>> = {},
    /** A team server's own TLS trust (tlsFetch.ts); the global fetch otherwise. */
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /** A Runlens-only route (or MLflow 3's, on a 2.x server); on a server without it (remembered for this client), `fallback` — the same answer from the routes it has. */
  private async runlensRoute<T>(route: string, call: (route: string) => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (this.missingRoutes.has(route)) return fallback();
    try {
      return await call(route);
    } catch (err) {
      if (!(err instanceof TrackingApiError && err.routeMissing)) throw err;
      this.missingRoutes.add(route);
      return fallback();
    }
  }

  /**
   * This client with every request bound to `signal` (a view's Cancel, a superseded load): the
   * same server, headers, route memory and history cache (shared through the prototype). An
   * aborted request rejects with the signal's reason (an AbortError), never as an unavailable server.
   */
  withSignal(signal: AbortSignal): TrackingClient {
    const bound = Object.create(this) as TrackingClient;
    Object.defineProperty(bound, 'signal', { value: signal });
    return bound;
  }

  /** Whether this server lacked a Runlens route it was asked for (so the views read it through MLflow's routes). */
  lacksRunlensRoute(route: string): boolean {
    return this.missingRoutes.has(route);
  }

  /** One REST call: JSON in and out, MLflow errors as TrackingApiError (also used by the per-resource clients). */
  async request<T>(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', route: string, body?: Record<string, unknown>): Promise<T> {
    const res = await this.send(method, route, body);
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) throw new TrackingApiError('BAD_RESPONSE', `Unexpected non-JSON answer from ${route}`, res.status);
    return parsed as T;
  }

  /**
   * A GET whose answer may be long (a metric history): each item of the answer's top-level lists
   * goes to `onItem` as it arrives and is not kept (jsonItems.ts); resolves with the rest of the
   * answer. What `onItem` throws stops the read (the rest is not downloaded) and is thrown.
   */
  async requestItems<T>(route: string, query: Record<string, unknown>, onItem: (item: unknown) => void): Promise<T> {
    const res = await this.send('GET', route, query);
    const items = new JsonItems(onItem);
    const decoder = new TextDecoder();
    const reader = res.body?.getReader();
    let done = !reader;
    try {
      while (!done) {
        let piece: Awaited<ReturnType<NonNullable<typeof reader>['read']>>;
        try {
          piece = await reader!.read();
        } catch (err) {
          if (this.signal?.aborted) throw this.signal.reason;
          throw this.unavailable(err);
        }
        done = piece.done;
        items.push(decoder.decode(piece.value, { stream: !done }));
      }
      return items.end() as T;
    } catch (err) {
      if (err instanceof SyntaxError) throw new TrackingApiError('BAD_RESPONSE', `Unexpected non-JSON answer from ${route}`, res.status);
      throw err;
    } finally {
      if (!done) await reader?.cancel().catch(() => undefined);
    }
  }

  /** The request sent; an answer that is not 2xx is thrown as MLflow's error. */
  private async send(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', route: string, body?: Record<string, unknown>): Promise<Response> {
    let url = `${this.baseUrl}${route}`;
    const init: RequestInit = { method, headers: { ...this.headers }, ...(this.signal ? { signal: this.signal } : {}) };
    if (method === 'GET' && body) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) {
        if (v === undefined) continue;
        for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
      }
      url += `?${q.toString()}`;
    } else if (body) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, init);
    } catch (err) {
      if (this.signal?.aborted) throw this.signal.reason;
      throw this.unavailable(err);
    }
    if (!res.ok) {
      const text = await res.text();
      throw apiError(res.status, text, text.slice(0, 300) || res.statusText);
    }
    return res;
  }

  /** A failed fetch as TrackingApiError; Node's fetch says only "fetch failed", the reason (refused, a certificate) is its cause. */
  private unavailable(err: unknown): TrackingApiError {
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error && !(err as Error).message.includes(cause.message) ? `${(err as Error).message}: ${cause.message}` : (err as Error).message;
    return new TrackingApiError('UNAVAILABLE', `The tracking server at ${this.baseUrl} did not answer: ${why}`, 0, { cause: err });
  }

  async health(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await this.fetchFn(`${this.baseUrl}/health`, { headers: this.headers, signal: AbortSignal.timeout(timeoutMs) });
      return res.ok && (await res.text()) === 'OK';
    } catch {
      return false;
    }
  }

  // --- experiments ---

  /** All experiments (following page tokens), deleted ones too when asked. */
  async listExperiments(viewType: ViewType = 'ACTIVE_ONLY'): Promise<WireExperiment[]> {
    const out: WireExperiment[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.request<{ experiments?: WireExperiment[]; next_page_token?: string }>('POST', `${API}/experiments/search`, {
        view_type: viewType,
        max_results: 1000,
        order_by: ['name ASC'],
        page_token: pageToken,
      });
      out.push(...(page.experiments ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken && out.length < 100_000);
    return out;
  }

  async getExperiment(experimentId: string): Promise<WireExperiment> {
    return (await this.request<{ experiment: WireExperiment }>('GET', `${API}/experiments/get`, { experiment_id: experimentId })).experiment;
  }

  async createExperiment(name: string): Promise<string> {
    return (await this.request<{ experiment_id: string }>('POST', `${API}/experiments/create`, { name })).experiment_id;
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    await this.request('POST', `${API}/experiments/update`, { experiment_id: experimentId, new_name: newName });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.request('POST', `${API}/experiments/delete`, { experiment_id: experimentId });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.request('POST', `${API}/experiments/restore`, { experiment_id: experimentId });
  }

  // --- runs ---

  async searchRuns(q: SearchRunsQuery): Promise<RunPage> {
    const page = await this.request<{ runs?: WireRun[]; next_page_token?: string }>('POST', `${API}/runs/search`, {
      experiment_ids: q.experimentIds,
      filter: q.filter || undefined,
      order_by: q.orderBy,
      max_results: q.maxResults ?? 100,
      page_token: q.pageToken,
      run_view_type: q.viewType ?? 'ACTIVE_ONLY',
    });
    return { runs: page.runs ?? [], nextPageToken: page.next_page_token || undefined };
  }

  async getRun(runId: string): Promise<WireRun> {
    return (await this.request<{ run: WireRun }>('GET', `${API}/runs/get`, { run_id: runId })).run;
  }

  async updateRun(runId: string, update: { status?: WireRunStatus; endTime?: number; runName?: string }): Promise<WireRunInfo> {
    const res = await this.request<{ run_info: WireRunInfo }>('POST', `${API}/runs/update`, {
      run_id: runId,
      status: update.status,
      end_time: update.endTime,
      run_name: update.runName,
    });
    return res.run_info;
  }

  async deleteRun(runId: string): Promise<void> {
    await this.request('POST', `${API}/runs/delete`, { run_id: runId });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.request('POST', `${API}/runs/restore`, { run_id: runId });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.request('POST', `${API}/runs/set-tag`, { run_id: runId, key, value });
  }

  /** Several tags in one request (one journaled write: readers never see half of them). */
  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.request('POST', `${API}/runs/log-batch`, { run_id: runId, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
  }

  // --- artifacts ---

  async listArtifacts(runId: string, artifactPath?: string): Promise<WireFileInfo[]> {
    const res = await this.request<{ files?: WireFileInfo[] }>('GET', `${API}/artifacts/list`, { run_id: runId, path: artifactPath });
    return res.files ?? [];
  }

  /** Every file under a run's artifacts, breadth first, stopping after `limit` entries. */
  async listArtifactsRecursive(runId: string, limit = 500): Promise<{ files: WireFileInfo[]; truncated: boolean }> {
    const files: WireFileInfo[] = [];
    const queue: (string | undefined)[] = [undefined];
    while (queue.length > 0) {
      for (const f of await this.listArtifacts(runId, queue.shift())) {
        if (f.is_dir) queue.push(f.path);
        else files.push(f);
        if (files.length >= limit) return { files, truncated: true };
      }
    }
    return { files, truncated: false };
  }

  /** Reads up to `limit` bytes of an artifact through the proxy (`path` under mlflow-artifacts:/), and its full size. */
  async downloadArtifact(artifactPath: string, limit: number): Promise<{ data: Uint8Array; total: number }> {
    const url = `${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${artifactPath.split('/').map(encodeURIComponent).join('/')}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers: this.headers, ...(this.signal ? { signal: this.signal } : {}) });
    } catch (err) {
      if (this.signal?.aborted) throw this.signal.reason;
      throw this.unavailable(err);
    }
    if (!res.ok) throw apiError(res.status, await res.text(), `download failed with HTTP ${res.status}`);
    const total = Number(res.headers.get('content-length') ?? -1);
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = res.body?.getReader();
    while (reader && got < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
    }
    await reader?.cancel().catch(() => undefined);
    const data = new Uint8Array(Math.min(got, limit));
    let o = 0;
    for (const c of chunks) {
      const take = Math.min(c.length, data.length - o);
      data.set(c.subarray(0, take), o);
      o += take;
      if (o >= data.length) break;
    }
    return { data, total: total >= 0 ? total : got };
  }

  /** A chart-ready series: at most `buckets` points with a min/max envelope (from the history on a plain MLflow server). */
  async metricSeries(runId: string, key: string, axis: 'step' | 'timestamp', buckets: number): Promise<WireChartSeries> {
    return this.runlensRoute(
      '/runlens/api/metric-series',
      (route) => this.request<WireChartSeries>('GET', route, { run_id: runId, metric_key: key, x: axis, buckets }),
      () => this.histories.series(this, runId, key, axis, buckets),
    );
  }

  /** One key's chart-ready series for several runs, in `runIds` order. */
  async metricSeriesBulk(runIds: string[], key: string, axis: 'step' | 'timestamp', buckets: number): Promise<(WireChartSeries & { run_id: string })[]> {
    return this.runlensRoute(
      '/runlens/api/metric-series-bulk',
      async (route) => (await this.request<{ series: (WireChartSeries & { run_id: string })[] }>('GET', route, { run_ids: runIds, metric_key: key, x: axis, buckets })).series,
      () => historySeriesBulk(this, this.histories, runIds, key, axis, buckets),
    );
  }

  // --- traces ---

  /** MLflow 3's trace search; on a 2.x server (no 3.0 routes, remembered) its 2.0 search, read as v3's. */
  async searchTraces(q: { experimentIds: string[]; filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string }): Promise<{ traces: WireTraceInfo[]; nextPageToken?: string }> {
    return this.runlensRoute(
      '/api/3.0/mlflow/traces/search',
      async (route) => {
        const res = await this.request<{ traces?: WireTraceInfo[]; next_page_token?: string }>('POST', route, {
          locations: q.experimentIds.map((id) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: id } })),
          filter: q.filter || undefined,
          order_by: q.orderBy?.length ? q.orderBy : undefined,
          max_results: q.maxResults ?? 100,
          page_token: q.pageToken,
        });
        return { traces: res.traces ?? [], ...(res.next_page_token ? { nextPageToken: res.next_page_token } : {}) };
      },
      () => searchTracesV2(this, q),
    );
  }

  /** A trace with its spans as span dicts (on a plain MLflow server, read as the mlflow client's get_trace reads it). */
  async getTraceWithSpans(traceId: string): Promise<{ trace_info: WireTraceInfo; spans: WireSpan[]; spans_error?: string }> {
    return this.runlensRoute(
      '/runlens/api/trace',
      (route) => this.request<{ trace_info: WireTraceInfo; spans: WireSpan[]; spans_error?: string }>('GET', route, { trace_id: traceId }),
      () => traceWithSpans(this, traceId),
    );
  }

  /** How many traces an experiment has (on a plain MLflow server counted by paging the search, exact up to TRACE_SCAN_CAP). */
  async traceCount(experimentId: string, filter?: string): Promise<number> {
    return (await this.traceCountAtMost(experimentId, TRACE_SCAN_CAP, filter)).count;
  }

  /**
   * The trace count, exact on a Runlens server; on a plain MLflow server, where counting pages
   * through the search, exact up to `cap`, else `cap` with `capped` set.
   */
  async traceCountAtMost(experimentId: string, cap: number, filter?: string): Promise<{ count: number; capped: boolean }> {
    return this.runlensRoute(
      '/runlens/api/trace-count',
      async (route) => ({ count: (await this.request<{ count?: number }>('GET', route, { experiment_id: experimentId, filter: filter || undefined })).count ?? 0, capped: false }),
      () => countTraces(this, experimentId, filter || undefined, cap),
    );
  }

  async traceSessions(experimentIds: string[]): Promise<WireSessionSummary[]> {
    return this.runlensRoute(
      '/runlens/api/trace-sessions',
      async (route) => (await this.request<{ sessions?: WireSessionSummary[] }>('GET', route, { experiment_ids: experimentIds })).sessions ?? [],
      () => traceSessions(this, experimentIds),
    );
  }

  async createAssessment(traceId: string, assessment: Record<string, unknown>): Promise<WireAssessment> {
    const res = await this.request<{ assessment: WireAssessment }>('POST', `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}/assessments`, { assessment: { ...assessment, trace_id: traceId } });
    return res.assessment;
  }

  // --- evaluation datasets (MLflow 3 REST, any MLflow 3 server) ---

  async searchEvalDatasets(experimentIds: string[]): Promise<WireEvalDataset[]> {
    const out: WireEvalDataset[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.request<{ datasets?: WireEvalDataset[]; next_page_token?: string }>('POST', '/api/3.0/mlflow/datasets/search', {
        experiment_ids: experimentIds,
        max_results: 1000,
        page_token: pageToken,
      });
      out.push(...(res.datasets ?? []));
      pageToken = res.next_page_token;
    } while (pageToken && out.length < 10_000);
    return out;
  }

  async getEvalDataset(datasetId: string): Promise<WireEvalDataset> {
    return (await this.request<{ dataset: WireEvalDataset }>('GET', `/api/3.0/mlflow/datasets/${encodeURIComponent(datasetId)}`)).dataset;
  }

  /** One page of a dataset's records; `records` arrives as a JSON string. */
  async evalDatasetRecords(datasetId: string, maxResults: number, pageToken?: string): Promise<{ records: WireDatasetRecord[]; nextPageToken?: string }> {
    const res = await this.request<{ records?: string; next_page_token?: string }>('GET', `/api/3.0/mlflow/datasets/${encodeURIComponent(datasetId)}/records`, {
      max_results: maxResults,
      page_token: pageToken,
    });
    const records = res.records ? (JSON.parse(res.records) as WireDatasetRecord[]) : [];
    return { records, ...(res.next_page_token ? { nextPageToken: res.next_page_token } : {}) };
  }

  async evalDatasetExperimentIds(datasetId: string): Promise<string[]> {
    return (await this.request<{ experiment_ids?: string[] }>('GET', `/api/3.0/mlflow/datasets/${encodeURIComponent(datasetId)}/experiment-ids`)).experiment_ids ?? [];
  }

  // --- model registry ---

  async listRegisteredModels(): Promise<WireRegisteredModel[]> {
    const out: WireRegisteredModel[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.request<{ registered_models?: WireRegisteredModel[]; next_page_token?: string }>('GET', `${API}/registered-models/search`, {
        max_results: 1000,
        order_by: 'name ASC',
        page_token: pageToken,
      });
      out.push(...(page.registered_models ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken && out.length < 100_000);
    return out;
  }

  async listModelVersions(name: string): Promise<WireModelVersion[]> {
    const escaped = name.replace(/'/g, "\\'");
    const page = await this.request<{ model_versions?: WireModelVersion[] }>('GET', `${API}/model-versions/search`, {
      filter: `name='${escaped}'`,
      max_results: 1000,
      order_by: 'version_number DESC',
    });
    return page.model_versions ?? [];
  }

  // --- Runlens editor routes ---

  /** Registers a launch; runs created through `launchUri(id)` get these tags plus the launch id. */
  async registerLaunch(tags: { key: string; value: string }[]): Promise<string> {
    return (await this.request<{ launch_id: string }>('POST', '/runlens/api/launches', { tags })).launch_id;
  }

  /** Starts importing an MLflow store (a path the server can read, or a server URL) into this server's store. */
  async startImport(source: string): Promise<WireImportJob> {
    return this.request<WireImportJob>('POST', '/runlens/api/import', { source });
  }

  async importJob(jobId: string): Promise<WireImportJob> {
    return this.request<WireImportJob>('GET', '/runlens/api/import', { job_id: jobId });
  }

  launchUri(launchId: string): string {
    return `${this.baseUrl}/runlens/launch/${launchId}`;
  }
}
