/** Run RPCs: create/get/update/delete/restore, logging, tags, inputs and search. */
import { invalidParameter } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import { RUN_STATUSES, VIEW_TYPES, type DatasetInput, type MetricInput, type RunStatus } from '../../domain/types';
import { Fields, missingParameter, parseDouble, type FieldSource } from '../requestFields';
import type { Router } from '../router';
import { wireRun, wireRunInfo, wirePage } from '../wire';
import { readTags } from './experiments';
import { withLaunchTags, type LaunchRegistry } from '../launches';

function readMetric(source: FieldSource, path: string): MetricInput {
  const f = new Fields(source, false);
  const key = f.string('key');
  if (!key) throw missingParameter(`${path}key`);
  if (!f.has('value')) throw missingParameter(`${path}value`);
  const timestamp = f.int('timestamp');
  if (timestamp === undefined) throw missingParameter(`${path}timestamp`);
  const metric: MetricInput = { key, value: parseDouble(`${path}value`, source.value), timestamp, step: f.int('step') ?? 0 };
  // MLflow 3 links metrics to a logged model and a dataset.
  const modelId = f.string('model_id');
  if (modelId) metric.model_id = modelId;
  const datasetName = f.string('dataset_name');
  if (datasetName) metric.dataset_name = datasetName;
  const datasetDigest = f.string('dataset_digest');
  if (datasetDigest) metric.dataset_digest = datasetDigest;
  return metric;
}

function readDatasets(fields: Fields): DatasetInput[] {
  return fields.objects('datasets').map((d, i) => {
    const dataset = d.dataset;
    if (typeof dataset !== 'object' || dataset === null) throw missingParameter(`datasets[${i}].dataset`);
    const ds = dataset as Record<string, unknown>;
    const str = (k: string): string | undefined => (ds[k] === undefined || ds[k] === null ? undefined : String(ds[k]));
    const entry: DatasetInput = {
      tags: readTags(new Fields(d, false)),
      dataset: { name: str('name') ?? '', digest: str('digest') ?? '', source_type: str('source_type') ?? '', source: str('source') ?? '' },
    };
    const schema = str('schema');
    const profile = str('profile');
    if (schema !== undefined) entry.dataset.schema = schema;
    if (profile !== undefined) entry.dataset.profile = profile;
    return entry;
  });
}

export function registerRunRoutes(router: Router, store: TrackingStore, launches: LaunchRegistry): void {
  router.api('POST', '/mlflow/runs/create', async ({ fields, launchId }) => {
    const run = await store.createRun({
      experimentId: fields.string('experiment_id'),
      userId: fields.string('user_id'),
      runName: fields.string('run_name'),
      startTime: fields.int('start_time'),
      tags: withLaunchTags(readTags(fields), launches.tagsFor(launchId)),
    });
    return { run: wireRun(run) };
  });

  router.api('GET', '/mlflow/runs/get', async ({ fields }) => ({ run: wireRun(await store.getRun(fields.runId())) }));

  router.api('POST', '/mlflow/runs/update', async ({ fields }) => {
    const status = fields.has('status') ? fields.enumValue<RunStatus>('status', RUN_STATUSES, 'RUNNING') : undefined;
    const info = await store.updateRun(fields.runId(), { status, endTime: fields.int('end_time'), runName: fields.string('run_name') });
    return { run_info: wireRunInfo(info) };
  });

  router.api('POST', '/mlflow/runs/delete', async ({ fields }) => {
    await store.deleteRun(fields.runId());
    return {};
  });
  router.api('POST', '/mlflow/runs/restore', async ({ fields }) => {
    await store.restoreRun(fields.runId());
    return {};
  });

  router.api('POST', '/mlflow/runs/log-metric', async ({ fields }) => {
    const runId = fields.runId();
    await store.logMetric(runId, readMetric(fields.source, ''));
    return {};
  });

  router.api('POST', '/mlflow/runs/log-parameter', async ({ fields }) => {
    await store.logParam(fields.runId(), { key: fields.requiredString('key'), value: fields.string('value') ?? '' });
    return {};
  });

  router.api('POST', '/mlflow/runs/set-tag', async ({ fields }) => {
    await store.setTag(fields.runId(), { key: fields.requiredString('key'), value: fields.string('value') ?? '' });
    return {};
  });

  router.api('POST', '/mlflow/runs/delete-tag', async ({ fields }) => {
    await store.deleteTag(fields.runId(), fields.requiredString('key'));
    return {};
  });

  router.api('POST', '/mlflow/runs/log-batch', async ({ fields }) => {
    const runId = fields.runId();
    await store.logBatch(runId, {
      metrics: fields.objects('metrics').map((m, i) => readMetric(m, `metrics[${i}].`)),
      params: readTags(fields, 'params'),
      tags: readTags(fields, 'tags'),
    });
    return {};
  });

  router.api('POST', '/mlflow/runs/outputs', async ({ fields }) => {
    const models = fields.objects('models').map((m, i) => {
      const f = new Fields(m, false);
      const modelId = f.string('model_id');
      if (!modelId) throw missingParameter(`models[${i}].model_id`);
      return { modelId, step: f.int('step') ?? 0 };
    });
    await store.logOutputs(fields.runId(), models);
    return {};
  });

  router.api('POST', '/mlflow/runs/log-inputs', async ({ fields }) => {
    const models = fields.objects('models').map((m, i) => {
      if (typeof m.model_id !== 'string' || m.model_id === '') throw missingParameter(`models[${i}].model_id`);
      return m.model_id;
    });
    await store.logInputs(fields.runId(), readDatasets(fields), models);
    return {};
  });

  const search = async ({ fields }: { fields: Fields }): Promise<unknown> => {
    const maxResults = fields.int('max_results');
    if (maxResults !== undefined && maxResults > 50000) {
      throw invalidParameter(`Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most 50000.`);
    }
    const page = await store.searchRuns({
      experimentIds: fields.strings('experiment_ids'),
      filter: fields.string('filter'),
      viewType: fields.enumValue('run_view_type', VIEW_TYPES, 'ACTIVE_ONLY'),
      maxResults,
      orderBy: fields.strings('order_by'),
      pageToken: fields.string('page_token'),
    });
    return wirePage('runs', page, wireRun);
  };
  router.api('POST', '/mlflow/runs/search', search);
  router.api('GET', '/mlflow/runs/search', search);
}
