/**
 * How MLflow's SQLAlchemy store encodes values in its columns, for the exporter. Each rule is
 * what MLflow's store does on write, so a row we write reads back through MLflow as the entity
 * the source had (mlflow/store/tracking/sqlalchemy_store.py and dbmodels/models.py are the
 * reference for the semantics).
 */
import { pyJsonDumps } from '../../../domain/pyJson';
import type { Assessment } from '../../../domain/traceTypes';
import type { LoggedModelStatus } from '../../../domain/modelTypes';
import type { Metric } from '../../../domain/types';

/** The largest finite double: SQL has no infinities, so MLflow stores ±Inf as ±this. */
const MAX_DOUBLE = 1.7976931348623157e308;

/** A metric value as the `metrics.value` / `is_nan` pair: NaN is 0 with is_nan=1, ±Inf the largest double. */
export function metricColumns(value: number): { value: number; isNan: 0 | 1 } {
  if (Number.isNaN(value)) return { value: 0, isNan: 1 };
  if (value === Infinity) return { value: MAX_DOUBLE, isNan: 0 };
  if (value === -Infinity) return { value: -MAX_DOUBLE, isNan: 0 };
  return { value, isNan: 0 };
}

/**
 * The latest value per key, as MLflow's `latest_metrics` keeps it: the point with the greatest
 * (step, timestamp, value), comparing the stored value (NaN counts as 0).
 */
export function latestMetrics(points: Iterable<Metric>): Map<string, Metric> {
  const latest = new Map<string, Metric>();
  for (const p of points) {
    const cur = latest.get(p.key);
    if (!cur) {
      latest.set(p.key, p);
      continue;
    }
    const a = metricColumns(p.value).value;
    const b = metricColumns(cur.value).value;
    if (p.step > cur.step || (p.step === cur.step && (p.timestamp > cur.timestamp || (p.timestamp === cur.timestamp && a > b)))) latest.set(p.key, p);
  }
  return latest;
}

const STAGE_NAMES = ['None', 'Staging', 'Production', 'Archived'];

/** A model version stage in MLflow's canonical spelling (its store compares case-blind, writes these). */
export function stageName(stage: string | undefined): string {
  return STAGE_NAMES.find((s) => s.toLowerCase() === (stage ?? '').toLowerCase()) ?? 'None';
}

/** `logged_models.status` is an integer (LoggedModelStatus.to_int). */
export function loggedModelStatusInt(status: LoggedModelStatus | string): number {
  switch (status) {
    case 'LOGGED_MODEL_PENDING':
      return 1;
    case 'LOGGED_MODEL_READY':
      return 2;
    case 'LOGGED_MODEL_UPLOAD_FAILED':
      return 3;
    default:
      return 0;
  }
}

/** Entity lifecycle as the CHECK constraints allow: anything but 'deleted' is active. */
export function lifecycle(stage: string | undefined): 'active' | 'deleted' {
  return stage === 'deleted' ? 'deleted' : 'active';
}

/** An RFC 3339 timestamp (protobuf Timestamp JSON) as epoch milliseconds. */
export function rfc3339ToMs(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A protobuf Duration JSON (`"1.250s"`) as whole milliseconds. */
export function durationToMs(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /^(-?\d+(?:\.\d+)?)s$/.exec(text);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/** `SpanStatusCode` as `spans.status` holds it: `STATUS_CODE_OK` → `OK`. */
export function spanStatus(code: string | undefined): string {
  const c = (code ?? '').replace(/^STATUS_CODE_/, '');
  return c === 'OK' || c === 'ERROR' ? c : 'UNSET';
}

/** A base64 OpenTelemetry id (as `Span.to_dict()` writes it) as the hex MLflow's columns hold. */
export function otelIdHex(id: string | null | undefined): string | null {
  if (id === null || id === undefined || id === '') return null;
  if (/^[0-9a-f]{16}$|^[0-9a-f]{32}$/.test(id)) return id;
  return Buffer.from(id, 'base64').toString('hex');
}

/** A nanosecond time as an exact decimal string: a JS number loses digits past 2^53. */
export function nanosText(ns: number | string | null | undefined): string | null {
  if (ns === null || ns === undefined || ns === '') return null;
  return typeof ns === 'string' ? BigInt(ns).toString() : BigInt(Math.round(ns)).toString();
}

export interface AssessmentColumns {
  assessment_type: 'feedback' | 'expectation';
  value: string;
  error: string | null;
  metadata: string | null;
  aggregate_value: number | null;
  is_numeric_value: 0 | 1;
}

/** MLflow's aggregate of a feedback value: numbers (finite) are numeric; booleans and yes/no count 1/0 but are not. */
function aggregate(value: unknown): [number | null, 0 | 1] {
  if (typeof value === 'boolean') return [value ? 1 : 0, 0];
  if (typeof value === 'number') return Number.isFinite(value) ? [value, 1] : [null, 0];
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'yes' || v === 'no') return [v === 'yes' ? 1 : 0, 0];
  }
  return [null, 0];
}

/** The columns of an assessment row: the value JSON-encoded as Python's json.dumps writes it. */
export function assessmentColumns(a: Assessment): AssessmentColumns {
  const metadata = a.metadata && Object.keys(a.metadata).length > 0 ? pyJsonDumps(a.metadata) : null;
  if (a.expectation) {
    const serialized = a.expectation.serialized_value;
    const value = a.expectation.value !== undefined ? a.expectation.value : serialized?.serialization_format === 'JSON_FORMAT' ? (JSON.parse(serialized.value) as unknown) : serialized?.value;
    const [agg, numeric] = aggregate(value);
    return { assessment_type: 'expectation', value: pyJsonDumps(value ?? null), error: null, metadata, aggregate_value: agg, is_numeric_value: numeric };
  }
  const value = a.feedback?.value ?? null;
  const err = a.feedback?.error ?? a.error;
  const error = err ? pyJsonDumps({ error_code: err.error_code ?? null, error_message: err.error_message ?? null, stack_trace: err.stack_trace ?? null }) : null;
  const [agg, numeric] = aggregate(value);
  return { assessment_type: 'feedback', value: pyJsonDumps(value), error, metadata, aggregate_value: agg, is_numeric_value: numeric };
}
