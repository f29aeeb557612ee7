/** Answers view requests from a tracking server (fetch only: runs in the extension host and in a browser page). */
import type { TrackingClient } from '../extension/client/trackingClient';
import type { Axis, RunSummary, SeriesResult, UiRequest, UiRequestKind, UiResult } from './protocol';

const MAX_RUNS = 100;
const MAX_BUCKETS = 20_000;

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v); // "NaN", "Infinity", "-Infinity"
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
