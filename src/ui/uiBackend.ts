/** Answers view requests from a tracking server (fetch only: runs in the extension host and in a browser page). */
import { datasetView } from './datasetDetails';
import type { TrackingClient } from '../client/trackingClient';
import { artifactPathProblem } from '../client/artifactPaths';
import { proxyPath } from '../domain/artifactUri';
import type { WireChartSeries, WireRun } from '../client/wireTypes';
import { ModelViews } from './modelViews';
import { GovernanceViews } from './governanceViews';
import { schemaOf, toEvalDatasetRow, toEvalRecordView } from './datasetViews';
import { toAssessmentView, toSpanView, toTraceRow } from './traceViews';
import { filterString, type ArtifactPreview, type Axis, type EvalDatasetDetail, type RunDetail, type RunPage, type RunRow, type RunSummary, type SeriesResult, type UiRequest, type UiRequestKind, type UiResult } from './protocol';

const MAX_RUNS = 100;
const RECORDS_PAGE = 200;
const TEXT_LIMIT = 1024 * 1024;
const IMAGE_LIMIT = 5 * 1024 * 1024;
const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', bmp: 'image/bmp' };

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
const MAX_BUCKETS = 20_000;

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v); // "NaN", "Infinity", "-Infinity"
}

function toRow(r: WireRun): RunRow {
  const tags = Object.fromEntries((r.data.tags ?? []).map((t) => [t.key, t.value]));
  const row: RunRow = {
    runId: r.info.run_id,
    name: r.info.run_name || r.info.run_id,
    status: r.info.status,
    experimentId: r.info.experiment_id,
    deleted: r.info.lifecycle_stage === 'deleted',
    params: Object.fromEntries((r.data.params ?? []).map((p) => [p.key, p.value])),
    metrics: Object.fromEntries((r.data.metrics ?? []).map((m) => [m.key, num(m.value)])),
    tags: Object.fromEntries(Object.entries(tags).filter(([k]) => !k.startsWith('mlflow.'))),
  };
  if (r.info.start_time) row.startTime = r.info.start_time;
  if (r.info.end_time) row.endTime = r.info.end_time;
  if (r.info.user_id) row.user = r.info.user_id;
  if (tags['mlflow.parentRunId']) row.parentRunId = tags['mlflow.parentRunId'];
  return row;
}

function bucketCount(buckets: number): number {
  return Math.max(2, Math.min(MAX_BUCKETS, Math.floor(Number(buckets) || 1000)));
}

function toSeries(runId: string, key: string, axis: Axis, s: WireChartSeries): SeriesResult {
  return {
    runId,
    key,
    axis,
    total: s.total_points,
    downsampled: s.downsampled,
    points: s.points.map((p) => ({ x: p.x, value: num(p.value), min: num(p.min), max: num(p.max) })),
    ...(s.first_points !== undefined ? { firstPoints: s.first_points } : {}),
  };
}

function summaryOf(r: WireRun, parentRunId: string | undefined): RunSummary {
  const metrics = r.data.metrics ?? [];
  return {
    runId: r.info.run_id,
    name: r.info.run_name || r.info.run_id,
    experimentId: r.info.experiment_id,
    status: r.info.status,
    ...(r.info.start_time ? { startTime: r.info.start_time } : {}),
    metricKeys: metrics.map((m) => m.key).sort(),
    latest: Object.fromEntries(metrics.map((m) => [m.key, { value: num(m.value as number | string), step: Number(m.step ?? 0) }])),
    ...(parentRunId ? { parentRunId } : {}),
  };
}

/** Where views keep their preferences: VS Code's workspace memento, a browser's localStorage. */
export interface ViewPrefs {
  get(key: string): unknown;
  set(key: string, value: unknown): void | Promise<void>;
}

/** Largest preference value kept (a runs table's layout is a few KB; this stops a runaway view). */
const MAX_PREFS_CHARS = 256 * 1024;

export class UiBackend {
  private readonly models: ModelViews;
  private readonly governance: GovernanceViews;

  /** `user` names the person behind human feedback given in the views; without `prefs` nothing is remembered. */
  constructor(
    private readonly client: TrackingClient,
    private readonly user = 'runlens-user',
    private readonly prefs?: ViewPrefs,
  ) {
    this.models = new ModelViews(client);
    this.governance = new GovernanceViews(client);
  }

  /** Answers `request`; with `signal`, every fetch it makes is aborted when the signal is (the call rejects with an AbortError). */
  async handle<K extends UiRequestKind>(request: UiRequest<K>, signal?: AbortSignal): Promise<UiResult<K>> {
    if (signal) return new UiBackend(this.client.withSignal(signal), this.user, this.prefs).handle(request);
    const model = this.models.handle(request);
    if (model) return (await model) as UiResult<K>;
    const governed = this.governance.handle(request);
    if (governed) return (await governed) as UiResult<K>;
    switch (request.kind) {
      case 'runs': {
        const r = request as UiRequest<'runs'>;
        return (await this.runs(r.runIds, r.withChildren === true)) as UiResult<K>;
      }
      case 'series': {
        const r = request as UiRequest<'series'>;
        return (await this.series(r.runId, r.key, r.axis, r.buckets)) as UiResult<K>;
      }
      case 'seriesMany': {
        const r = request as UiRequest<'seriesMany'>;
        return (await this.seriesMany(this.ids(r.runIds), String(r.key), r.axis, r.buckets)) as UiResult<K>;
      }
      case 'experiments': {
        const ids = new Set((request as UiRequest<'experiments'>).experimentIds.map(String));
        const all = await this.client.listExperiments('ALL');
        return all.filter((e) => ids.size === 0 || ids.has(e.experiment_id)).map((e) => ({ experimentId: e.experiment_id, name: e.name })) as UiResult<K>;
      }
      case 'runRows':
        return (await Promise.all(this.ids((request as UiRequest<'runRows'>).runIds).map(async (id) => toRow(await this.client.getRun(id))))) as UiResult<K>;
      case 'runDetail':
        return (await this.runDetail(String((request as UiRequest<'runDetail'>).runId))) as UiResult<K>;
      case 'artifacts': {
        const r = request as UiRequest<'artifacts'>;
        const files = await this.client.listArtifacts(String(r.runId), r.path ? String(r.path) : undefined);
        return files.map((f) => ({ path: f.path, isDir: f.is_dir, ...(f.file_size !== undefined ? { size: Number(f.file_size) } : {}) })) as UiResult<K>;
      }
      case 'artifact': {
        const r = request as UiRequest<'artifact'>;
        return (await this.artifact(String(r.runId), String(r.path))) as UiResult<K>;
      }
      case 'setNote': {
        const r = request as UiRequest<'setNote'>;
        await this.client.setTag(String(r.runId), 'mlflow.note.content', String(r.note));
        return { ok: true } as UiResult<K>;
      }
      case 'searchRuns':
        return (await this.searchRuns(request as UiRequest<'searchRuns'>)) as UiResult<K>;
      case 'searchTraces': {
        const r = request as UiRequest<'searchTraces'>;
        const page = await this.client.searchTraces({
          experimentIds: r.experimentIds.map(String),
          filter: String(r.filter ?? ''),
          orderBy: (r.orderBy ?? []).map(String),
          maxResults: Math.min(500, Math.max(1, Number(r.maxResults) || 100)),
          ...(r.pageToken ? { pageToken: String(r.pageToken) } : {}),
        });
        return { rows: page.traces.map(toTraceRow), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) } as UiResult<K>;
      }
      case 'traceSessions':
        return (await this.client.traceSessions((request as UiRequest<'traceSessions'>).experimentIds.map(String))) as UiResult<K>;
      case 'traceDetail': {
        const t = await this.client.getTraceWithSpans(String((request as UiRequest<'traceDetail'>).traceId));
        return {
          row: toTraceRow(t.trace_info),
          metadata: t.trace_info.trace_metadata ?? {},
          tags: t.trace_info.tags ?? {},
          spans: t.spans.map(toSpanView),
          ...(t.spans_error ? { spansError: t.spans_error } : {}),
        } as UiResult<K>;
      }
      case 'traceCount': {
        const r = request as UiRequest<'traceCount'>;
        const counts = await Promise.all(r.experimentIds.map((id) => this.client.traceCount(String(id), String(r.filter ?? ''))));
        return counts.reduce((a, b) => a + b, 0) as UiResult<K>;
      }
      case 'logFeedback': {
        const r = request as UiRequest<'logFeedback'>;
        if (!['boolean', 'number', 'string'].includes(typeof r.value)) throw new Error('Feedback must be a boolean, a number or text.');
        const a = await this.client.createAssessment(String(r.traceId), {
          assessment_name: String(r.name),
          source: { source_type: 'HUMAN', source_id: this.user },
          feedback: { value: r.value },
          ...(r.rationale ? { rationale: String(r.rationale) } : {}),
          ...(r.spanId ? { span_id: String(r.spanId) } : {}),
        });
        return toAssessmentView(a) as UiResult<K>;
      }
      case 'evalDatasets': {
        const ids = (request as UiRequest<'evalDatasets'>).experimentIds;
        if (!Array.isArray(ids) || ids.length === 0) throw new Error('Pick at least one experiment.');
        return (await this.client.searchEvalDatasets(ids.map(String))).map(toEvalDatasetRow) as UiResult<K>;
      }
      case 'evalDataset': {
        const r = request as UiRequest<'evalDataset'>;
        return (await this.evalDataset(String(r.datasetId), r.pageToken ? String(r.pageToken) : undefined)) as UiResult<K>;
      }
      case 'getPrefs':
        return this.prefs?.get(String((request as UiRequest<'getPrefs'>).key)) as UiResult<K>;
      case 'setPrefs': {
        const r = request as UiRequest<'setPrefs'>;
        if (JSON.stringify(r.value ?? null).length > MAX_PREFS_CHARS) throw new Error('These view preferences are too large to keep.');
        await this.prefs?.set(String(r.key), r.value);
        return { ok: true } as UiResult<K>;
      }
      default:
        throw new Error(`Unknown request '${String((request as { kind: unknown }).kind)}'`);
    }
  }

  private async evalDataset(datasetId: string, pageToken: string | undefined): Promise<EvalDatasetDetail> {
    const [dataset, page, experimentIds, experiments] = await Promise.all([
      this.client.getEvalDataset(datasetId),
      this.client.evalDatasetRecords(datasetId, RECORDS_PAGE, pageToken),
      this.client.evalDatasetExperimentIds(datasetId),
      this.client.listExperiments('ALL'),
    ]);
    const names = new Map(experiments.map((e) => [e.experiment_id, e.name]));
    const detail: EvalDatasetDetail = {
      dataset: toEvalDatasetRow(dataset),
      experiments: experimentIds.map((id) => ({ experimentId: id, name: names.get(id) ?? id })),
      records: page.records.map(toEvalRecordView),
    };
    const schema = schemaOf(dataset);
    if (schema !== undefined) detail.schema = schema;
    if (page.nextPageToken) detail.nextPageToken = page.nextPageToken;
    return detail;
  }

  private async runs(runIds: string[], withChildren: boolean): Promise<RunSummary[]> {
    const runs = await Promise.all(this.ids(runIds).map((id) => this.client.getRun(id)));
    const children = withChildren
      ? await Promise.all(
          runs.map(async (r) => {
            const page = await this.client.searchRuns({ experimentIds: [r.info.experiment_id], filter: `tags.\`mlflow.parentRunId\` = ${filterString(r.info.run_id)}`, orderBy: ['attributes.start_time ASC'], maxResults: MAX_RUNS });
            return page.runs;
          }),
        )
      : [];
    const seen = new Set<string>();
    const out: RunSummary[] = [];
    runs.forEach((r, i) => {
      for (const run of [r, ...(children[i] ?? [])]) {
        if (seen.has(run.info.run_id) || out.length >= MAX_RUNS) continue;
        seen.add(run.info.run_id);
        out.push(summaryOf(run, run === r ? undefined : r.info.run_id));
      }
    });
    return out;
  }

  private ids(runIds: unknown): string[] {
    if (!Array.isArray(runIds) || runIds.length === 0) throw new Error('Pick at least one run.');
    if (runIds.length > MAX_RUNS) throw new Error(`At most ${MAX_RUNS} runs at once (got ${runIds.length}).`);
    return runIds.map(String);
  }

  private async runDetail(runId: string): Promise<RunDetail> {
    const run = await this.client.getRun(runId);
    const row = toRow(run);
    const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
    const [experiment, children, parent] = await Promise.all([
      this.client.getExperiment(run.info.experiment_id).catch(() => undefined),
      this.client.searchRuns({ experimentIds: [run.info.experiment_id], filter: `tags.\`mlflow.parentRunId\` = '${runId}'`, maxResults: 1000 }).catch(() => ({ runs: [] })),
      row.parentRunId ? this.client.getRun(row.parentRunId).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    const detail: RunDetail = {
      ...row,
      experimentName: experiment?.name ?? run.info.experiment_id,
      systemTags: Object.fromEntries(Object.entries(tags).filter(([k]) => k.startsWith('mlflow.'))),
      inputs: (run.inputs?.dataset_inputs ?? []).map(datasetView),
      children: children.runs.map((c) => ({ runId: c.info.run_id, name: c.info.run_name || c.info.run_id, status: c.info.status })),
    };
    if (run.info.artifact_uri) detail.artifactUri = run.info.artifact_uri;
    if (tags['mlflow.note.content'] !== undefined) detail.note = tags['mlflow.note.content'];
    if (tags['mlflow.source.name']) detail.sourceName = tags['mlflow.source.name'];
    if (tags['mlflow.source.git.commit']) detail.gitCommit = tags['mlflow.source.git.commit'];
    if (parent) detail.parentName = parent.info.run_name || parent.info.run_id;
    return detail;
  }

  /** An artifact for preview: text up to 1 MB, images up to 5 MB as data URLs. */
  private async artifact(runId: string, artifactPath: string): Promise<ArtifactPreview> {
    const problem = artifactPath ? artifactPathProblem(artifactPath) : 'An artifact path is required.';
    if (problem) throw new Error(problem);
    const run = await this.client.getRun(runId);
    const uri = run.info.artifact_uri ?? '';
    const base = proxyPath(uri);
    if (base === undefined) throw new Error(`Artifacts stored at ${uri} cannot be previewed.`);
    const bytes = await this.client.downloadArtifact(`${base}/${artifactPath}`, IMAGE_LIMIT + 1);
    const ext = artifactPath.toLowerCase().split('.').pop() ?? '';
    const size = bytes.total;
    if (IMAGE_TYPES[ext]) {
      if (size > IMAGE_LIMIT) return { kind: 'tooLarge', size };
      return { kind: 'image', dataUrl: `data:${IMAGE_TYPES[ext]};base64,${toBase64(bytes.data)}`, size };
    }
    const head = bytes.data.subarray(0, Math.min(bytes.data.length, TEXT_LIMIT));
    if (head.subarray(0, 8000).includes(0)) return { kind: 'binary', size };
    return { kind: 'text', text: new TextDecoder('utf-8', { fatal: false }).decode(head), size, truncated: size > TEXT_LIMIT };
  }

  private async searchRuns(r: UiRequest<'searchRuns'>): Promise<RunPage> {
    if (!Array.isArray(r.experimentIds) || r.experimentIds.length === 0) throw new Error('Pick at least one experiment.');
    const page = await this.client.searchRuns({
      experimentIds: r.experimentIds.map(String),
      filter: String(r.filter ?? ''),
      orderBy: Array.isArray(r.orderBy) ? r.orderBy.map(String) : [],
      maxResults: Math.max(1, Math.min(1000, Math.floor(Number(r.maxResults) || 1000))),
      ...(r.pageToken ? { pageToken: String(r.pageToken) } : {}),
    });
    return { rows: page.runs.map(toRow), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  private async series(runId: string, key: string, axis: Axis, buckets: number): Promise<SeriesResult> {
    const s = await this.client.metricSeries(String(runId), String(key), axis === 'timestamp' ? 'timestamp' : 'step', bucketCount(buckets));
    return toSeries(runId, key, axis, s);
  }

  private async seriesMany(runIds: string[], key: string, axis: Axis, buckets: number): Promise<SeriesResult[]> {
    const all = await this.client.metricSeriesBulk(runIds, key, axis === 'timestamp' ? 'timestamp' : 'step', bucketCount(buckets));
    return all.map((s) => toSeries(s.run_id, key, axis, s));
  }
}
