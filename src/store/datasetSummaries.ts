/**
 * Dataset summaries (MLflow's `_search_datasets`, behind the UI's experiment-level dataset
 * filter): each distinct (experiment, dataset name, digest, input context) among the run inputs
 * of the given experiments — inputs of deleted runs included, as in MLflow. An input without a
 * context tag is a summary without a context.
 */
import type { DatasetSummary } from '../backend/api/tracking';
import { invalidParameter } from '../domain/errors';
import { placeholders, type SqlDb } from './sqlite';


/** MLflow caps the answer at this many summaries. */
export const MAX_DATASET_SUMMARIES = 1000;
const CONTEXT_TAG = 'mlflow.data.context';

export function searchDatasetSummaries(db: SqlDb, experimentIds: string[]): DatasetSummary[] {
  const ids = experimentIds.map((id) => {
    if (!/^-?\d+$/.test(id.trim())) throw invalidParameter(`Invalid experiment ID '${id}'. Experiment ID must be a valid integer.`);
    return Number(id);
  });
  const rows = db.rows(
    `SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d
       JOIN run_inputs ri ON ri.dataset = d.id
       LEFT JOIN run_input_tags t ON t.run = ri.run AND t.dataset = ri.dataset AND t.key = ?
     WHERE d.experiment_id IN (${placeholders(ids.length)})
     ORDER BY d.id, t.value LIMIT ?`,
    [CONTEXT_TAG, ...ids, MAX_DATASET_SUMMARIES],
  );
  return rows.map(([exp, name, digest, context]) => ({
    experiment_id: String(exp),
    name: String(name),
    digest: String(digest),
    ...(context === null || context === undefined ? {} : { context: String(context) }),
  }));
}
