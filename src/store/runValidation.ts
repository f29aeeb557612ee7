/**
 * What a run's log request must satisfy before it becomes an op (MLflow's validation in
 * `utils/validation.py` and the SQL store's checks): batch caps, metric values, times and steps,
 * dataset inputs. Pure functions of the request; state checks stay with the store.
 */
import { invalidParameter } from '../domain/errors';
import type { DatasetInput, Metric } from '../domain/types';
import * as limits from './limits';
import { encodeMetricValue, type JournalDataset } from './ops';
import type { JournalMetric, KV } from './opTypes';

/** MLflow's per-request caps on logBatch (each kind, and all together). */
export function validateBatchLimits(metrics: number, params: number, tags: number): void {
  const over = (limit: number, n: number, what: string): void => {
    if (n > limit) {
      throw invalidParameter(
        `A batch logging request can contain at most ${limit} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`,
      );
    }
  };
  over(limits.MAX_METRICS_PER_BATCH, metrics, 'metrics');
  over(limits.MAX_PARAMS_TAGS_PER_BATCH, params, 'params');
  over(limits.MAX_PARAMS_TAGS_PER_BATCH, tags, 'tags');
  const total = metrics + params + tags;
  if (total > limits.MAX_ENTITIES_PER_BATCH) {
    throw invalidParameter(
      `A batch logging request can contain at most ${limits.MAX_ENTITIES_PER_BATCH} metrics, params, and tags in total. Got ${total} in total.`,
    );
  }
}

/** A client's metric checked as MLflow checks it, in the journal's form. */
export function validateMetric(m: Metric): JournalMetric {
  limits.validateEntityKey('metric', m.key);
  if (typeof m.value !== 'number') {
    throw invalidParameter(
      `Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`,
    );
  }
  if (typeof m.timestamp !== 'number' || !Number.isInteger(m.timestamp) || m.timestamp < 0) {
    throw invalidParameter(
      `Got invalid timestamp ${String(m.timestamp)} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer) `,
    );
  }
  if (typeof m.step !== 'number' || !Number.isInteger(m.step)) {
    throw invalidParameter(`Got invalid step ${String(m.step)} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`);
  }
  // MLflow's SQL store keeps ±Infinity as ±DBL_MAX, so clients read back the same numbers.
  // SQLite keeps -0.0 as 0, so MLflow returns 0 for it (`+ 0` turns -0 into 0).
  const value = m.value === Infinity ? Number.MAX_VALUE : m.value === -Infinity ? -Number.MAX_VALUE : m.value + 0;
  return [m.key, encodeMetricValue(value), m.timestamp, m.step];
}

/** Two points of the same key and step are the same point when value and timestamp match too. */
function samePoint(a: JournalMetric, b: JournalMetric): boolean {
  return a[1] === b[1] && a[2] === b[2];
}

/**
 * Identical points in one request are logged once, as MLflow's SQL store does. Points are
 * grouped by key and step (two map lookups a point, no key string built per point); only points
 * sharing both are compared by value and timestamp. The rows come back as given when none repeats.
 */
export function dedupeMetrics(rows: JournalMetric[]): JournalMetric[] {
  if (rows.length < 2) return rows;
  const byKey = new Map<string, Map<number, JournalMetric | JournalMetric[]>>();
  let kept: JournalMetric[] | undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    let steps = byKey.get(r[0]);
    if (!steps) byKey.set(r[0], (steps = new Map()));
    // One point at this key and step (the usual case: no array made), or several.
    const at = steps.get(r[3]);
    let repeat = false;
    if (at === undefined) steps.set(r[3], r);
    else if (!Array.isArray(at[0])) {
      const first = at as JournalMetric;
      repeat = samePoint(first, r);
      if (!repeat) steps.set(r[3], [first, r]);
    } else {
      const several = at as JournalMetric[];
      repeat = several.some((o) => samePoint(o, r));
      if (!repeat) several.push(r);
    }
    if (repeat) kept ??= rows.slice(0, i);
    else kept?.push(r);
  }
  return kept ?? rows;
}

/** A run input's dataset checked as MLflow checks it, in the journal's form. */
export function validateDatasetInput(d: DatasetInput): JournalDataset {
  const ds = d.dataset;
  if (!ds || typeof ds !== 'object') throw invalidParameter("Missing value for required parameter 'datasets.dataset'.");
  for (const field of ['name', 'digest', 'source_type', 'source'] as const) {
    if (typeof ds[field] !== 'string' || ds[field] === '') {
      throw invalidParameter(`Missing value for required parameter 'dataset.${field}'. See the API docs for more information about request parameters.`);
    }
  }
  limits.validateLength('dataset.name', ds.name, limits.MAX_DATASET_NAME_LENGTH);
  limits.validateLength('dataset.digest', ds.digest, limits.MAX_DATASET_DIGEST_LENGTH);
  limits.validateLength('dataset.source', ds.source, limits.MAX_DATASET_SOURCE_LENGTH);
  if (ds.schema) limits.validateLength('dataset.schema', ds.schema, limits.MAX_DATASET_SCHEMA_LENGTH);
  if (ds.profile) limits.validateLength('dataset.profile', ds.profile, limits.MAX_DATASET_PROFILE_LENGTH);
  const tags = (d.tags ?? []).map((t): KV => {
    if (typeof t.key !== 'string' || t.key === '') throw invalidParameter("Missing value for required parameter 'tags.key'.");
    limits.validateLength('input tag key', t.key, limits.MAX_INPUT_TAG_KEY_LENGTH);
    limits.validateLength('input tag value', t.value ?? '', limits.MAX_INPUT_TAG_VALUE_LENGTH);
    return [t.key, t.value ?? ''];
  });
  return {
    name: ds.name,
    digest: ds.digest,
    source_type: ds.source_type,
    source: ds.source,
    schema: ds.schema ?? null,
    profile: ds.profile ?? null,
    tags,
  };
}
