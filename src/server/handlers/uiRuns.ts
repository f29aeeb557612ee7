/**
 * Run and dataset RPCs only the MLflow UI calls, served where `mlflow server` serves them (only
 * under `/ajax-api/2.0`): experiment dataset summaries and prompt-lab runs.
 */
import { invalidParameter } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import type { Router } from '../router';
import { wireRun } from '../wire';
import { createPromptlabRun } from './promptlab';

const AJAX_2 = ['/ajax-api/2.0'];
const MAX_EXPERIMENT_IDS = 20;

export function registerUiRunRoutes(router: Router, store: TrackingStore): void {
  router.api(
    'POST',
    '/mlflow/experiments/search-datasets',
    async ({ fields }) => {
      const given = fields.source.experiment_ids;
      // A list of anything but strings does not parse as the proto's repeated string: MLflow then sees none.
      const ids = Array.isArray(given) && given.every((x) => typeof x === 'string') ? (given as string[]) : [];
      if (ids.length === 0) throw invalidParameter('SearchDatasets request must specify at least one experiment_id.');
      if (ids.length > MAX_EXPERIMENT_IDS) {
        throw invalidParameter(`SearchDatasets request cannot specify more than ${MAX_EXPERIMENT_IDS} experiment_ids. Received ${ids.length} experiment_ids.`);
      }
      const summaries = await store.searchDatasets(ids);
      return summaries.length ? { dataset_summaries: summaries } : {};
    },
    { prefixes: AJAX_2 },
  );

  router.api('POST', '/mlflow/runs/create-promptlab-run', async ({ fields }) => ({ run: wireRun(await createPromptlabRun(store, fields.source)) }), { prefixes: AJAX_2 });
}
