/**
 * The trace tables as the trace modules read them: one trace's row, its tags and metadata, its
 * experiment, where its payload folder is, and rows turned into MLflow's TraceInfo. Reads only;
 * every write goes through the journal (TraceWrite).
 */
import { proxyPath } from '../../domain/artifactUri';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import type { KV } from '../opTypes';
import { placeholders, type SqlDb } from '../sqlite';
import type { StoreCore } from '../storeCore';
import type { TraceOp } from './traceOps';
import { TraceKeys, type Assessment, type TraceInfo, type TraceState } from '../../domain/traceTypes';

export const TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Tags the server owns: where a trace's files live decides what deleting it removes. */
export const SERVER_TAGS = new Set<string>([TraceKeys.artifactLocation, TraceKeys.spansLocation]);

export interface TraceRow {
  id: number;
  trace_id: string;
  experiment_id: number;
  request_time: number;
  execution_ms: number | null;
  state: TraceState;
  client_request_id: string | null;
  request_preview: string | null;
  response_preview: string | null;
}

export const TRACE_COLUMNS = 't.id, t.trace_id, t.experiment_id, t.request_time, t.execution_ms, t.state, t.client_request_id, t.request_preview, t.response_preview';

/** Largest time a Date can hold (ms); a stored time beyond it must not fail every read of its trace. */
const MAX_DATE_MS = 8.64e15;

export function timestampJson(ms: number): string {
  return new Date(Number.isFinite(ms) ? Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, ms)) : 0).toISOString();
}

export function durationJson(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

export function truncate(text: string | undefined, limit: number): string | undefined {
  return text === undefined || text.length <= limit ? text : text.slice(0, limit);
}

export function entries(map: Record<string, string>): KV[] {
  return Object.entries(map).map(([k, v]) => [k, v]);
}

/** The artifact location a new trace gets inside its experiment's. */
export function newTraceLocation(experimentLocation: string, traceId: string): string {
  return `${experimentLocation.replace(/\/+$/, '')}/traces/${traceId}/artifacts`;
}

/**
 * A trace's folder in this store's artifact tree: its `mlflow-artifacts:` location, or for any
 * other location (e.g. `file:///…`, where the client writes traces.json itself) the folder under
 * the experiment's id where spans sent to the server (OTLP) land.
 */
export function traceDir(location: string | undefined, experimentId: number, traceId: string): string {
  return (location === undefined ? undefined : proxyPath(location)) ?? `${experimentId}/traces/${traceId}/artifacts`;
}

/** Experiment ids as sql.js keys; a non-numeric id is a clear error, not an empty result. */
export function experimentKeys(experimentIds: string[]): number[] {
  return experimentIds.map((e) => {
    if (!/^\d+$/.test(e)) throw invalidParameter(`Invalid experiment ID '${e}'.`);
    return Number(e);
  });
}

/** Journals one trace op and tells readers the trace changed. */
export type TraceWrite = (op: TraceOp, traceId: string, experimentId: number) => Promise<void>;

export function traceWriter(core: StoreCore): TraceWrite {
  return (op, traceId, experimentId) => core.write(op, { kind: 'trace', traceId, experimentId: String(experimentId) });
}

export class TraceRows {
  constructor(private readonly db: SqlDb) {}

  activeExperiment(experimentId: string): { id: number; location: string } {
    const id = /^\d+$/.test(experimentId) ? Number(experimentId) : NaN;
    const row = Number.isSafeInteger(id)
      ? this.db.get<{ artifact_location: string; lifecycle_stage: string }>('SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?', [id])
      : undefined;
    if (!row) throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    if (row.lifecycle_stage !== 'active') throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    return { id, location: row.artifact_location };
  }

  row(traceId: string): TraceRow {
    const row = this.db.get<TraceRow>(`SELECT ${TRACE_COLUMNS} FROM traces t WHERE t.trace_id = ?`, [traceId]);
    if (!row) throw doesNotExist(`Trace with ID '${traceId}' not found.`);
    return row;
  }

  /** One value of a trace's tags or metadata. */
  private keyValue(table: 'trace_tags' | 'trace_metadata', trace: number, key: string): string | undefined {
    const v = this.db.value(`SELECT value FROM ${table} WHERE trace = ? AND key = ?`, [trace, key]);
    return v === undefined || v === null ? undefined : String(v);
  }

  tag(trace: number, key: string): string | undefined {
    return this.keyValue('trace_tags', trace, key);
  }

  metadataValue(trace: number, key: string): string | undefined {
    return this.keyValue('trace_metadata', trace, key);
  }

  checkTraceId(traceId: string): void {
    if (!TRACE_ID.test(traceId)) throw invalidParameter(`Invalid trace ID '${traceId}': expected letters, digits, '_', '.' or '-' (e.g. tr-<32 hex digits>).`);
  }

  /** The trace's folder in this store's artifact tree (see `traceDir`). */
  payloadDir(row: { id: number; trace_id: string; experiment_id: number }): string {
    return traceDir(this.tag(row.id, TraceKeys.artifactLocation), row.experiment_id, row.trace_id);
  }

  load(rows: TraceRow[]): TraceInfo[] {
    if (rows.length === 0) return [];
    const db = this.db;
    const ids = rows.map((r) => r.id);
    const byTrace = <T>(sql: string): Map<number, T[]> => {
      const out = new Map<number, T[]>();
      for (const r of db.all<T & { trace: number }>(sql, ids)) {
        const list = out.get(r.trace) ?? [];
        list.push(r);
        out.set(r.trace, list);
      }
      return out;
    };
    const tags = byTrace<{ key: string; value: string }>(`SELECT trace, key, value FROM trace_tags WHERE trace IN (${placeholders(ids.length)})`);
    const metadata = byTrace<{ key: string; value: string }>(`SELECT trace, key, value FROM trace_metadata WHERE trace IN (${placeholders(ids.length)})`);
    const assessments = byTrace<{ body: string }>(`SELECT trace, body FROM assessments WHERE trace IN (${placeholders(ids.length)}) ORDER BY rowid`);
    return rows.map((r) => {
      const info: TraceInfo = {
        trace_id: r.trace_id,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(r.experiment_id) } },
        request_time: timestampJson(r.request_time),
        state: r.state,
        trace_metadata: Object.fromEntries((metadata.get(r.id) ?? []).map((m) => [m.key, m.value])),
        tags: Object.fromEntries((tags.get(r.id) ?? []).map((t) => [t.key, t.value])),
        assessments: (assessments.get(r.id) ?? []).map((a) => JSON.parse(a.body) as Assessment),
      };
      if (r.client_request_id !== null) info.client_request_id = r.client_request_id;
      if (r.request_preview !== null) info.request_preview = r.request_preview;
      if (r.response_preview !== null) info.response_preview = r.response_preview;
      if (r.execution_ms !== null) info.execution_duration = durationJson(r.execution_ms);
      return info;
    });
  }
}
