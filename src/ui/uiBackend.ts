/** Answers view requests from a tracking server (fetch only: runs in the extension host and in a browser page). */
import type { TrackingClient } from '../extension/client/trackingClient';
import type { WireRun } from '../extension/client/wireTypes';
import type { Axis, RunPage, RunRow, RunSummary, SeriesResult, UiRequest, UiRequestKind, UiResult } from './protocol';

const MAX_RUNS = 100;
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

export class UiBackend {
  constructor(private readonly client: TrackingClient) {}

  async handle<K extends UiRequestKind>(request: UiRequest<K>): Promise<UiResult<K>> {
    switch (request.kind) {
      case 'runs':
        return (await this.runs((request as UiRequest<'runs'>).runIds)) as UiResult<K>;
      case 'series': {
        const r = request as UiRequest<'series'>;
        return (await this.series(r.runId, r.key, r.axis, r.buckets)) as UiResult<K>;
      }
      case 'experiments': {
        const ids = new Set((request as UiRequest<'experiments'>).experimentIds.map(String));
        const all = await this.client.listExperiments('ALL');
        return all.filter((e) => ids.size === 0 || ids.has(e.experiment_id)).map((e) => ({ experimentId: e.experiment_id, name: e.name })) as UiResult<K>;
      }
      case 'searchRuns':
        return (await this.searchRuns(request as UiRequest<'searchRuns'>)) as UiResult<K>;
      default:
        throw new Error(`Unknown request '${String((request as { kind: unknown }).kind)}'`);
    }
  }

  private async runs(runIds: string[]): Promise<RunSummary[]> {
    if (!Array.isArray(runIds) || runIds.length === 0) throw new Error('Pick at least one run.');
    if (runIds.length > MAX_RUNS) throw new Error(`At most ${MAX_RUNS} runs at once (got ${runIds.length}).`);
    const runs = await Promise.all(runIds.map((id) => this.client.getRun(String(id))));
    return runs.map((r) => ({
      runId: r.info.run_id,
      name: r.info.run_name || r.info.run_id,
      experimentId: r.info.experiment_id,
      status: r.info.status,
      ...(r.info.start_time ? { startTime: r.info.start_time } : {}),
      metricKeys: (r.data.metrics ?? []).map((m) => m.key).sort(),
    }));
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
    const b = Math.max(2, Math.min(MAX_BUCKETS, Math.floor(Number(buckets) || 1000)));
    const s = await this.client.metricSeries(String(runId), String(key), axis === 'timestamp' ? 'timestamp' : 'step', b);
    return {
      runId,
      key,
      axis,
      total: s.total_points,
      downsampled: s.downsampled,
      points: s.points.map((p) => ({ x: p.x, value: num(p.value), min: num(p.min), max: num(p.max) })),
    };
  }
}
