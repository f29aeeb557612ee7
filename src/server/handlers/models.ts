/** Logged models (MLflow 3) and the model registry: REST routes over the store's sub-stores. */
import type { LoggedModelOrder } from '../../backend/api/loggedModels';
import type { RegistrySearchRequest } from '../../backend/api/registry';
import type { LoggedModel, ModelMetric, ModelVersion, RegisteredModel } from '../../domain/modelTypes';
import type { TrackingStore } from '../../backend/api/tracking';
import { Fields, missingParameter } from '../requestFields';
import type { Router } from '../router';
import { wireDouble, wirePage } from '../wire';
import { readTags } from './experiments';

function wireModelMetric(m: ModelMetric): Record<string, unknown> {
  return { ...m, value: wireDouble(m.value) };
}

function wireLoggedModel(m: LoggedModel): Record<string, unknown> {
  return { info: m.info, data: { params: m.data.params, metrics: m.data.metrics.map(wireModelMetric) } };
}

function readOrderBy(fields: Fields): LoggedModelOrder[] {
  return fields.objects('order_by').map((o, i) => {
    const f = new Fields(o, false);
    const field = f.string('field_name');
    if (!field) throw missingParameter(`order_by[${i}].field_name`);
    return { field, ascending: f.bool('ascending') ?? true, datasetName: f.string('dataset_name'), datasetDigest: f.string('dataset_digest') };
  });
}

function readRegistrySearch(fields: Fields): RegistrySearchRequest {
  return { filter: fields.string('filter'), maxResults: fields.int('max_results'), orderBy: fields.strings('order_by'), pageToken: fields.string('page_token') };
}

export function registerModelRoutes(router: Router, store: TrackingStore): void {
  const models = store.loggedModels;
  const registry = store.registry;

  // ---- logged models ----------------------------------------------------------------------
  router.api('POST', '/mlflow/logged-models', async ({ fields }) => {
    const model = await models.create({
      experimentId: fields.requiredString('experiment_id'),
      name: fields.string('name'),
      modelType: fields.string('model_type'),
      sourceRunId: fields.string('source_run_id'),
      params: readTags(fields, 'params'),
      tags: readTags(fields),
    });
    return { model: wireLoggedModel(model) };
  });

  router.api('POST', '/mlflow/logged-models/search', async ({ fields }) => {
    const page = await models.search({
      experimentIds: fields.strings('experiment_ids'),
      filter: fields.string('filter'),
      datasets: fields.objects('datasets').map((d) => {
        const f = new Fields(d, false);
        return { name: f.requiredString('dataset_name'), digest: f.string('dataset_digest') };
      }),
      maxResults: fields.int('max_results'),
      orderBy: readOrderBy(fields),
      pageToken: fields.string('page_token'),
    });
    return wirePage('models', page, wireLoggedModel);
  });

  router.api('GET', '/mlflow/logged-models/:modelId', async ({ pathParams }) => ({ model: wireLoggedModel(await models.get(pathParams.modelId!)) }));

  router.api('PATCH', '/mlflow/logged-models/:modelId', async ({ pathParams, fields }) => {
    const status = fields.string('status');
    if (!status) throw missingParameter('status');
    return { model: wireLoggedModel(await models.finalize(pathParams.modelId!, status)) };
  });

  router.api('DELETE', '/mlflow/logged-models/:modelId', async ({ pathParams }) => {
    await models.delete(pathParams.modelId!);
    return {};
  });

  router.api('PATCH', '/mlflow/logged-models/:modelId/tags', async ({ pathParams, fields }) => {
    await models.setTags(pathParams.modelId!, readTags(fields));
    return {};
  });

  router.api('DELETE', '/mlflow/logged-models/:modelId/tags/:key', async ({ pathParams }) => {
    await models.deleteTag(pathParams.modelId!, pathParams.key!);
    return {};
  });

  router.api('POST', '/mlflow/logged-models/:modelId/params', async ({ pathParams, fields }) => {
    await models.logParams(pathParams.modelId!, readTags(fields, 'params'));
    return {};
  });

  // ---- registered models ------------------------------------------------------------------
  const rm = (m: RegisteredModel): { registered_model: RegisteredModel } => ({ registered_model: m });
  const mv = (v: ModelVersion): { model_version: ModelVersion } => ({ model_version: v });

  router.api('POST', '/mlflow/registered-models/create', async ({ fields }) =>
    rm(await registry.createRegisteredModel(fields.string('name'), readTags(fields), fields.string('description'))),
  );
  router.api('GET', '/mlflow/registered-models/get', async ({ fields }) => rm(await registry.getRegisteredModel(fields.string('name'))));
  router.api('POST', '/mlflow/registered-models/rename', async ({ fields }) =>
    rm(await registry.renameRegisteredModel(fields.string('name'), fields.string('new_name'))),
  );
  router.api('PATCH', '/mlflow/registered-models/update', async ({ fields }) =>
    rm(await registry.updateRegisteredModel(fields.string('name'), fields.string('description'))),
  );
  router.api('DELETE', '/mlflow/registered-models/delete', async ({ fields }) => {
    await registry.deleteRegisteredModel(fields.string('name'));
    return {};
  });
  router.api('GET', '/mlflow/registered-models/search', async ({ fields }) => {
    const page = await registry.searchRegisteredModels(readRegistrySearch(fields));
    return wirePage('registered_models', page);
  });
  const latest = async ({ fields }: { fields: Fields }): Promise<unknown> => ({
    model_versions: await registry.getLatestVersions(fields.string('name'), fields.strings('stages')),
  });
  router.api('POST', '/mlflow/registered-models/get-latest-versions', latest);
  router.api('GET', '/mlflow/registered-models/get-latest-versions', latest);
  router.api('POST', '/mlflow/registered-models/set-tag', async ({ fields }) => {
    await registry.setRegisteredModelTag(fields.string('name'), fields.requiredString('key'), fields.string('value') ?? '');
    return {};
  });
  router.api('DELETE', '/mlflow/registered-models/delete-tag', async ({ fields }) => {
    await registry.deleteRegisteredModelTag(fields.string('name'), fields.requiredString('key'));
    return {};
  });
  router.api('POST', '/mlflow/registered-models/alias', async ({ fields }) => {
    await registry.setAlias(fields.string('name'), fields.requiredString('alias'), fields.requiredString('version'));
    return {};
  });
  router.api('DELETE', '/mlflow/registered-models/alias', async ({ fields }) => {
    await registry.deleteAlias(fields.string('name'), fields.requiredString('alias'));
    return {};
  });
  router.api('GET', '/mlflow/registered-models/alias', async ({ fields }) => mv(await registry.getVersionByAlias(fields.string('name'), fields.requiredString('alias'))));

  // ---- model versions ---------------------------------------------------------------------
  router.api('POST', '/mlflow/model-versions/create', async ({ fields }) =>
    mv(
      await registry.createModelVersion({
        name: fields.requiredString('name'),
        source: fields.requiredString('source'),
        runId: fields.string('run_id'),
        runLink: fields.string('run_link'),
        description: fields.string('description'),
        modelId: fields.string('model_id'),
        tags: readTags(fields),
      }),
    ),
  );
  router.api('GET', '/mlflow/model-versions/get', async ({ fields }) => mv(await registry.getModelVersion(fields.string('name'), fields.string('version'))));
  router.api('PATCH', '/mlflow/model-versions/update', async ({ fields }) =>
    mv(await registry.updateModelVersion(fields.string('name'), fields.string('version'), fields.string('description'))),
  );
  router.api('POST', '/mlflow/model-versions/transition-stage', async ({ fields }) => {
    const stage = fields.string('stage');
    if (!stage) throw missingParameter('stage');
    const archive = fields.bool('archive_existing_versions');
    if (archive === undefined) throw missingParameter('archive_existing_versions');
    return mv(await registry.transitionStage(fields.string('name'), fields.string('version'), stage, archive));
  });
  router.api('DELETE', '/mlflow/model-versions/delete', async ({ fields }) => {
    await registry.deleteModelVersion(fields.string('name'), fields.string('version'));
    return {};
  });
  router.api('GET', '/mlflow/model-versions/search', async ({ fields }) => {
    const page = await registry.searchModelVersions(readRegistrySearch(fields));
    return wirePage('model_versions', page);
  });
  router.api('GET', '/mlflow/model-versions/get-download-uri', async ({ fields }) => ({
    artifact_uri: await registry.getDownloadUri(fields.string('name'), fields.string('version')),
  }));
  router.api('POST', '/mlflow/model-versions/set-tag', async ({ fields }) => {
    await registry.setModelVersionTag(fields.string('name'), fields.string('version'), fields.requiredString('key'), fields.string('value') ?? '');
    return {};
  });
  router.api('DELETE', '/mlflow/model-versions/delete-tag', async ({ fields }) => {
    await registry.deleteModelVersionTag(fields.string('name'), fields.string('version'), fields.requiredString('key'));
    return {};
  });
}
