/**
 * Journaled mutations. Each op carries every value it needs (ids, times, generated names), so
 * replaying the journal reproduces exactly the state the live server had. `applyOp` is the only
 * code that writes tracking tables; callers validate first, so an op never fails half-way.
 */
import { SERIES_RECORD_BYTES, sealRecords } from './seriesRecord';
import type { SqlDb } from './sqlite';
import { applyModelOp, type JournalModelMetric, type ModelOp } from './models/modelOps';
import { applyTraceOp, isTraceOp, type TraceOp } from './traces/traceOps';
import { applyDatasetOp, isDatasetOp, type DatasetOp } from './datasets/datasetOps';
import type { LifecycleStage, RunStatus } from '../domain/types';
import type { JournalMetric, KV } from './opTypes';


export interface JournalDataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: KV[];
}

export type Op = TrackingOp | ModelOp | TraceOp | DatasetOp;

export type TrackingOp =
  | { t: 'exp.create'; id: number; name: string; artifactLocation: string; time: number; tags: KV[] }
  | { t: 'exp.rename'; id: number; name: string; time: number }
  | { t: 'exp.lifecycle'; id: number; stage: LifecycleStage; time: number }
  | { t: 'exp.setTag'; id: number; key: string; value: string }
  | { t: 'exp.deleteTag'; id: number; key: string }
  | {
      t: 'run.create';
      uuid: string;
      exp: number;
      userId: string;
      name: string;
      startTime: number | null;
      artifactUri: string;
      tags: KV[];
    }
  | { t: 'run.update'; uuid: string; status?: RunStatus; endTime?: number; name?: string }
  | { t: 'run.lifecycle'; uuid: string; stage: LifecycleStage; time: number }
  | { t: 'run.log'; uuid: string; metrics: JournalMetric[]; params: KV[]; tags: KV[]; modelMetrics?: JournalModelMetric[] }
  | { t: 'run.deleteTag'; uuid: string; key: string }
  | { t: 'run.inputs'; uuid: string; datasets: JournalDataset[]; models: string[] };

/** Bytes to append to a run's metric series file, at a record index fixed when the op applied. */
export interface SeriesWrite {
  runUuid: string;
  firstRecord: number;
  records: Buffer;
}

export { SERIES_RECORD_BYTES };

export function encodeMetricValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function decodeMetricValue(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

interface RunRow {
  id: number;
  series_len: number;
}

function runRow(db: SqlDb, uuid: string): RunRow {
  const row = db.get<RunRow>('SELECT id, series_len FROM runs WHERE run_uuid = ?', [uuid]);
  if (!row) throw new Error(`journal refers to unknown run ${uuid}`);
  return row;
}

function setRunTag(db: SqlDb, run: number, uuid: string, key: string, value: string): void {
  db.run('INSERT INTO tags (run, key, value) VALUES (?, ?, ?) ON CONFLICT (run, key) DO UPDATE SET value = excluded.value', [
    run,
    key,
    value,
  ]);
  // MLflow keeps runs.name and the mlflow.runName tag in step.
  if (key === 'mlflow.runName') db.run('UPDATE runs SET name = ? WHERE run_uuid = ?', [value, uuid]);
}

interface LatestRow {
  key_id: number;
  value: number | null;
  timestamp: number;
  step: number;
  is_nan: number;
}

interface Point {
  value: number;
  ts: number;
  step: number;
}

/** MLflow's "latest" metric is the max of (step, timestamp, value), NaN counting as 0. */
function isNewer(a: Point, b: Point): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.ts !== b.ts) return a.ts > b.ts;
  return (Number.isNaN(a.value) ? 0 : a.value) > (Number.isNaN(b.value) ? 0 : b.value);
}

/** The newest point per key in a batch, so SQL is touched once per key rather than per point. */
function newestPerKey(metrics: JournalMetric[]): Map<string, Point> {
  const newest = new Map<string, Point>();
  for (const [key, rawValue, ts, step] of metrics) {
    const point = { value: decodeMetricValue(rawValue), ts, step };
    const cur = newest.get(key);
    if (!cur || isNewer(point, cur)) newest.set(key, point);
  }
  return newest;
}

function applyMetrics(db: SqlDb, run: RunRow, uuid: string, metrics: JournalMetric[]): SeriesWrite | undefined {
  if (metrics.length === 0) return undefined;
  const keyIds = new Map<string, number>();
  let nextKeyId: number | undefined;
  for (const [key, point] of newestPerKey(metrics)) {
    const isNan = Number.isNaN(point.value) ? 1 : 0;
    const stored = isNan ? null : point.value;
    const old = db.get<LatestRow>('SELECT key_id, value, timestamp, step, is_nan FROM latest_metrics WHERE run = ? AND key = ?', [run.id, key]);
    if (!old) {
      nextKeyId ??= Number(db.value('SELECT count(*) FROM latest_metrics WHERE run = ?', [run.id]));
      const keyId = nextKeyId++;
      keyIds.set(key, keyId);
      db.run('INSERT INTO latest_metrics (run, key, key_id, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        run.id,
        key,
        keyId,
        stored,
        point.ts,
        point.step,
        isNan,
      ]);
      continue;
    }
    keyIds.set(key, old.key_id);
    const oldPoint = { value: old.is_nan ? NaN : (old.value ?? 0), ts: old.timestamp, step: old.step };
    if (isNewer(point, oldPoint)) {
      db.run('UPDATE latest_metrics SET value = ?, timestamp = ?, step = ?, is_nan = ? WHERE run = ? AND key = ?', [
        stored,
        point.ts,
        point.step,
        isNan,
        run.id,
        key,
      ]);
    }
  }
  const buf = Buffer.alloc(metrics.length * SERIES_RECORD_BYTES);
  metrics.forEach(([key, rawValue, ts, step], i) => {
    const o = i * SERIES_RECORD_BYTES;
    buf.writeUInt32LE(keyIds.get(key)!, o);
    buf.writeUInt32LE(0, o + 4);
    buf.writeDoubleLE(step, o + 8);
    buf.writeDoubleLE(ts, o + 16);
    buf.writeDoubleLE(decodeMetricValue(rawValue), o + 24);
  });
  sealRecords(buf);
  const firstRecord = run.series_len;
  db.run('UPDATE runs SET series_len = series_len + ? WHERE id = ?', [metrics.length, run.id]);
  return { runUuid: uuid, firstRecord, records: buf };
}

function applyInputs(db: SqlDb, run: RunRow, op: Extract<Op, { t: 'run.inputs' }>): void {
  const exp = Number(db.value('SELECT experiment_id FROM runs WHERE id = ?', [run.id]));
  for (const d of op.datasets) {
    db.run(
      `INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (experiment_id, name, digest) DO NOTHING`,
      [exp, d.name, d.digest, d.source_type, d.source, d.schema, d.profile],
    );
    const datasetId = Number(
      db.value('SELECT id FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?', [exp, d.name, d.digest]),
    );
    db.run('INSERT OR IGNORE INTO run_inputs (run, dataset) VALUES (?, ?)', [run.id, datasetId]);
    for (const [key, value] of d.tags) {
      db.run('INSERT OR REPLACE INTO run_input_tags (run, dataset, key, value) VALUES (?, ?, ?, ?)', [run.id, datasetId, key, value]);
    }
  }
  for (const modelId of op.models) {
    db.run('INSERT OR IGNORE INTO run_model_inputs (run, model_id) VALUES (?, ?)', [run.id, modelId]);
  }
}

/** Applies one op inside a transaction; returns the metric-series bytes it produced, if any. */
export function applyOp(db: SqlDb, op: Op): SeriesWrite | undefined {
  return db.transaction(() => {
    switch (op.t) {
      case 'exp.create':
        db.run(
          'INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)',
          [op.id, op.name, op.artifactLocation, 'active', op.time, op.time],
        );
        for (const [k, v] of op.tags) db.run('INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)', [op.id, k, v]);
        return undefined;
      case 'exp.rename':
        db.run('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?', [op.name, op.time, op.id]);
        return undefined;
      case 'exp.lifecycle':
        db.run('UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?', [op.stage, op.time, op.id]);
        // As MLflow's SQL store: deleting or restoring an experiment does the same to all its runs.
        db.run('UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?', [
          op.stage,
          op.stage === 'deleted' ? op.time : null,
          op.id,
        ]);
        return undefined;
      case 'exp.setTag':
        db.run('INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)', [op.id, op.key, op.value]);
        return undefined;
      case 'exp.deleteTag':
        db.run('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?', [op.id, op.key]);
        return undefined;
      case 'run.create': {
        db.run(
          `INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri)
           VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?)`,
          [op.uuid, op.exp, op.name, op.userId, op.startTime, op.artifactUri],
        );
        const run = runRow(db, op.uuid);
        for (const [k, v] of op.tags) setRunTag(db, run.id, op.uuid, k, v);
        return undefined;
      }
      case 'run.update': {
        if (op.status !== undefined) db.run('UPDATE runs SET status = ? WHERE run_uuid = ?', [op.status, op.uuid]);
        if (op.endTime !== undefined) db.run('UPDATE runs SET end_time = ? WHERE run_uuid = ?', [op.endTime, op.uuid]);
        if (op.name) setRunTag(db, runRow(db, op.uuid).id, op.uuid, 'mlflow.runName', op.name);
        return undefined;
      }
      case 'run.lifecycle':
        db.run('UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?', [
          op.stage,
          op.stage === 'deleted' ? op.time : null,
          op.uuid,
        ]);
        return undefined;
      case 'run.log': {
        const run = runRow(db, op.uuid);
        for (const [k, v] of op.params) db.run('INSERT OR IGNORE INTO params (run, key, value) VALUES (?, ?, ?)', [run.id, k, v]);
        for (const [k, v] of op.tags) setRunTag(db, run.id, op.uuid, k, v);
        if (op.modelMetrics?.length) applyModelOp(db, { t: 'lm.metrics', metrics: op.modelMetrics });
        return applyMetrics(db, run, op.uuid, op.metrics);
      }
      case 'run.deleteTag':
        db.run('DELETE FROM tags WHERE run = (SELECT id FROM runs WHERE run_uuid = ?) AND key = ?', [op.uuid, op.key]);
        return undefined;
      case 'run.inputs':
        applyInputs(db, runRow(db, op.uuid), op);
        return undefined;
      default:
        if (isTraceOp(op)) applyTraceOp(db, op);
        else if (isDatasetOp(op)) applyDatasetOp(db, op);
        else applyModelOp(db, op);
        return undefined;
    }
  });
}
