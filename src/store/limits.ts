/**
 * MLflow's validation limits and name rules (mlflow/utils/validation.py), in one place, so the
 * store and server enforce exactly what `mlflow server` enforces.
 */
import * as path from 'node:path';
import { invalidParameter } from '../domain/errors';

export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_EXPERIMENT_TAG_KEY_LENGTH = 250;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000;
export const MAX_DATASET_NAME_LENGTH = 500;
export const MAX_DATASET_DIGEST_LENGTH = 36;
export const MAX_DATASET_SOURCE_LENGTH = 65535;
export const MAX_DATASET_SCHEMA_LENGTH = 1048575;
export const MAX_DATASET_PROFILE_LENGTH = 16777215;
export const MAX_INPUT_TAG_KEY_LENGTH = 255;
export const MAX_INPUT_TAG_VALUE_LENGTH = 500;
export const MAX_DATASETS_PER_BATCH = 1000;
export const SEARCH_RUNS_MAX_RESULTS = 50000;
export const SEARCH_RUNS_DEFAULT_MAX_RESULTS = 1000;
export const SEARCH_EXPERIMENTS_MAX_RESULTS = 50000;
export const METRIC_HISTORY_MAX_RESULTS = 25000;
export const BULK_INTERVAL_MAX_RUNS = 100;
export const BULK_INTERVAL_MAX_RESULTS = 2500;

const NAME_PATTERN = /^[/\w.\- :]*$/u;

/** Validates a metric, param or tag key the way MLflow's `_validate_*_name` does. */
export function validateEntityKey(kind: 'metric' | 'param' | 'tag', key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw invalidParameter(
      `Missing value for required parameter 'key'. See the API docs for more information about request parameters.`,
    );
  }
  if (!NAME_PATTERN.test(key)) {
    throw invalidParameter(
      `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), ` +
        `periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  // The key must survive normalisation unchanged, so it can never name a different path.
  if (path.posix.normalize(key) !== key || key === '.' || key.startsWith('..') || key.startsWith('/')) {
    throw invalidParameter(
      `Invalid ${kind} name: '${key}'. Names cannot contain path components that resolve outside the run, ` +
        `and must be normalized (no '//', './' or trailing '/').`,
    );
  }
  validateLength(`${kind} key`, key, MAX_ENTITY_KEY_LENGTH);
  return key;
}

/** Rejects a value longer than `limit` with MLflow's message. */
export function validateLength(name: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw invalidParameter(`'${name}' exceeds the maximum length of ${limit} characters`);
  }
}

/**
 * MLflow truncates over-long param and tag values by default (`MLFLOW_TRUNCATE_LONG_VALUES`);
 * with RUNLENS_TRUNCATE_LONG_VALUES=false they are rejected instead.
 */
export function fitValue(name: string, value: string, limit: number, truncate: boolean): string {
  if (value.length <= limit) return value;
  if (truncate) return value.slice(0, limit);
  throw invalidParameter(`'${name}' exceeds the maximum length of ${limit} characters`);
}

const RUN_ID_PATTERN = /^[a-zA-Z0-9][\w-]{0,255}$/u;
const EXPERIMENT_ID_PATTERN = /^[a-zA-Z0-9][\w-]{0,63}$/u;

export function validateRunId(runId: string): void {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw invalidParameter(`Invalid run ID: '${runId}'`);
  }
}

export function validateExperimentId(experimentId: string): void {
  if (!EXPERIMENT_ID_PATTERN.test(experimentId)) {
    throw invalidParameter(`Invalid experiment ID: '${experimentId}'`);
  }
}

export function validateExperimentName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidParameter(`Invalid experiment name: '${String(name ?? '')}'. Expected a non-empty string.`);
  }
  validateLength('name', name, MAX_EXPERIMENT_NAME_LENGTH);
  return name;
}
