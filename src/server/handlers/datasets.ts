/**
 * GenAI evaluation datasets (`/api/3.0/mlflow/datasets/*`) and registered scorers
 * (`/api/3.0/mlflow/scorers/*`), answered as `mlflow server` answers them: proto-JSON with
 * empty repeated fields left out and int32 counts always present.
 */
import type { JsonValue } from '../../domain/datasetTypes';
import { pyJson } from '../../domain/pyJsonValue';
import { invalidParameter } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import { missingParameter, type Fields } from '../requestFields';
import type { Router } from '../router';

/** A repeated field under `key`, left out when empty (as proto-JSON does). */
function repeated<T>(key: string, items: T[]): Record<string, T[]> {
  return items.length ? { [key]: items } : {};
}

function requiredText(fields: Fields, name: string): string {
  const v = fields.string(name);
  if (v === undefined || v === '') throw missingParameter(name);
  return v;
}

export function registerDatasetRoutes(router: Router, store: TrackingStore): void {
  const datasets = store.evalDatasets;

  router.api('POST', '/mlflow/datasets/create', async ({ fields }) => ({
    dataset: await datasets.create(requiredText(fields, 'name'), fields.strings('experiment_ids'), fields.string('tags') || undefined),
  }));

  const search = async ({ fields }: { fields: Fields }): Promise<unknown> => {
    const page = await datasets.search({
      experimentIds: fields.strings('experiment_ids'),
      filter: fields.string('filter_string') || undefined,
      maxResults: fields.int('max_results'),
      orderBy: fields.strings('order_by'),
      pageToken: fields.string('page_token') || undefined,
    });
    return { ...repeated('datasets', page.items), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  };
  router.api('POST', '/mlflow/datasets/search', search);
  router.api('GET', '/mlflow/datasets/search', search);

  router.api('GET', '/mlflow/datasets/:datasetId', async ({ pathParams }) => ({ dataset: await datasets.get(pathParams.datasetId!) }));
  router.api('DELETE', '/mlflow/datasets/:datasetId', async ({ pathParams }) => {
    await datasets.delete(pathParams.datasetId!);
    return {};
  });

  router.api('PATCH', '/mlflow/datasets/:datasetId/tags', async ({ pathParams, fields }) => {
    await datasets.setTags(pathParams.datasetId!, requiredText(fields, 'tags'));
    return {};
  });
  router.api('DELETE', '/mlflow/datasets/:datasetId/tags/:key', async ({ pathParams }) => {
    await datasets.deleteTag(pathParams.datasetId!, pathParams.key!);
    return {};
  });

  router.api('POST', '/mlflow/datasets/:datasetId/records', async ({ pathParams, fields }) => {
    const { inserted, updated } = await datasets.upsertRecords(pathParams.datasetId!, requiredText(fields, 'records'));
    return { inserted_count: inserted, updated_count: updated };
  });
  router.api('GET', '/mlflow/datasets/:datasetId/records', async ({ pathParams, fields }) => {
    const page = await datasets.records(pathParams.datasetId!, fields.int('max_results'), fields.string('page_token') || undefined);
    return { records: pyJson(page.records as unknown as JsonValue), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  router.api('DELETE', '/mlflow/datasets/:datasetId/records', async ({ pathParams, fields }) => ({
    deleted_count: await datasets.deleteRecords(pathParams.datasetId!, fields.strings('dataset_record_ids')),
  }));

  router.api('GET', '/mlflow/datasets/:datasetId/experiment-ids', async ({ pathParams }) => repeated('experiment_ids', await datasets.experimentIds(pathParams.datasetId!)));
  router.api('POST', '/mlflow/datasets/:datasetId/add-experiments', async ({ pathParams, fields }) => ({
    dataset: await datasets.addToExperiments(pathParams.datasetId!, fields.strings('experiment_ids')),
  }));
  router.api('POST', '/mlflow/datasets/:datasetId/remove-experiments', async ({ pathParams, fields }) => ({
    dataset: await datasets.removeFromExperiments(pathParams.datasetId!, fields.strings('experiment_ids')),
  }));
}

export function registerScorerRoutes(router: Router, store: TrackingStore): void {
  const scorers = store.scorers;

  router.api('POST', '/mlflow/scorers/register', async ({ fields }) => {
    const experimentId = requiredText(fields, 'experiment_id');
    const name = requiredText(fields, 'name');
    const v = await scorers.register(experimentId, name, requiredText(fields, 'serialized_scorer'));
    return {
      version: v.scorer_version,
      scorer_id: v.scorer_id,
      experiment_id: String(v.experiment_id),
      name: v.scorer_name,
      serialized_scorer: v.serialized_scorer,
      creation_time: v.creation_time,
    };
  });

  router.api('GET', '/mlflow/scorers/list', async ({ fields }) => {
    const one = fields.string('experiment_id');
    if (one && fields.has('experiment_ids')) {
      throw invalidParameter(
        "Cannot specify both 'experiment_id' and 'experiment_ids'. Use 'experiment_ids' to scope the query to multiple experiments, or 'experiment_id' to scope it to a single experiment.",
      );
    }
    const list = fields.has('experiment_ids') ? await scorers.listLatest(fields.strings('experiment_ids')) : one ? await scorers.list(one) : await scorers.listLatest(undefined);
    return repeated('scorers', list);
  });

  router.api('GET', '/mlflow/scorers/versions', async ({ fields }) =>
    repeated('scorers', await scorers.versions(requiredText(fields, 'experiment_id'), requiredText(fields, 'name'))),
  );
  router.api('GET', '/mlflow/scorers/get', async ({ fields }) => ({
    scorer: await scorers.get(requiredText(fields, 'experiment_id'), requiredText(fields, 'name'), fields.int('version')),
  }));
  router.api('DELETE', '/mlflow/scorers/delete', async ({ fields }) => {
    await scorers.delete(requiredText(fields, 'experiment_id'), requiredText(fields, 'name'), fields.int('version'));
    return {};
  });

  // The client asks for online-scoring configs after listing or getting scorers. Runlens runs no
  // online scoring, so no scorer has a config.
  router.api('GET', '/mlflow/scorers/online-configs', async ({ fields }) => {
    if (!fields.has('scorer_ids')) throw missingParameter('scorer_ids');
    return { configs: [] };
  });
}
