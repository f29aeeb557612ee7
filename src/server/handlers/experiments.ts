/** Experiment RPCs (service.proto: CreateExperiment ... DeleteExperimentTag). */
import { doesNotExist } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import { VIEW_TYPES, type Tag } from '../../domain/types';
import { missingParameter, type Fields } from '../requestFields';
import type { Router } from '../router';
import { wirePage } from '../wire';

export function readTags(fields: Fields, name = 'tags'): Tag[] {
  return fields.objects(name).map((t, i) => {
    if (typeof t.key !== 'string' || t.key === '') throw missingParameter(`${name}[${i}].key`);
    return { key: String(t.key), value: t.value === undefined || t.value === null ? '' : String(t.value) };
  });
}

export function registerExperimentRoutes(router: Router, store: TrackingStore): void {
  router.api('POST', '/mlflow/experiments/create', async ({ fields }) => {
    const id = await store.createExperiment(fields.requiredString('name'), fields.string('artifact_location') || undefined, readTags(fields));
    return { experiment_id: id };
  });

  router.api('GET', '/mlflow/experiments/get', async ({ fields }) => ({
    experiment: await store.getExperiment(fields.requiredString('experiment_id')),
  }));

  router.api('GET', '/mlflow/experiments/get-by-name', async ({ fields }) => {
    const name = fields.requiredString('experiment_name');
    const experiment = await store.getExperimentByName(name);
    if (!experiment) throw doesNotExist(`Could not find experiment with name '${name}'`);
    return { experiment };
  });

  const search = async ({ fields }: { fields: Fields }): Promise<unknown> => {
    const page = await store.searchExperiments({
      filter: fields.string('filter'),
      orderBy: fields.strings('order_by'),
      viewType: fields.enumValue('view_type', VIEW_TYPES, 'ACTIVE_ONLY'),
      maxResults: fields.int('max_results'),
      pageToken: fields.string('page_token'),
    });
    return wirePage('experiments', page);
  };
  router.api('POST', '/mlflow/experiments/search', search);
  router.api('GET', '/mlflow/experiments/search', search);

  router.api('POST', '/mlflow/experiments/delete', async ({ fields }) => {
    await store.deleteExperiment(fields.requiredString('experiment_id'));
    return {};
  });
  router.api('POST', '/mlflow/experiments/restore', async ({ fields }) => {
    await store.restoreExperiment(fields.requiredString('experiment_id'));
    return {};
  });
  router.api('POST', '/mlflow/experiments/update', async ({ fields }) => {
    await store.renameExperiment(fields.requiredString('experiment_id'), fields.requiredString('new_name'));
    return {};
  });
  router.api('POST', '/mlflow/experiments/set-experiment-tag', async ({ fields }) => {
    await store.setExperimentTag(fields.requiredString('experiment_id'), fields.requiredString('key'), fields.string('value') ?? '');
    return {};
  });
  router.api('POST', '/mlflow/experiments/delete-experiment-tag', async ({ fields }) => {
    await store.deleteExperimentTag(fields.requiredString('experiment_id'), fields.requiredString('key'));
    return {};
  });
}
