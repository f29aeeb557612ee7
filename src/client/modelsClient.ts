/**
 * The model registry and MLflow 3 logged models over REST, as the views and the Models tree use
 * them. Kept apart from TrackingClient (runs, artifacts, traces) so each stays readable.
 */
import type { LoggedModel } from '../domain/modelTypes';
import type { TrackingClient } from './trackingClient';
import type { WireModelVersion, WireRegisteredModel } from './wireTypes';

const API = '/api/2.0/mlflow';

export type WireLoggedModel = LoggedModel;

/** A filter-language string literal for the registry search (MLflow's registry parser takes '…' with \\'). */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class ModelsClient {
  constructor(private readonly client: TrackingClient) {}

  // --- logged models (MLflow 3) ---

  async getLoggedModel(modelId: string): Promise<WireLoggedModel> {
    return (await this.client.request<{ model: WireLoggedModel }>('GET', `${API}/logged-models/${encodeURIComponent(modelId)}`)).model;
  }

  /** The logged models whose source run is `runId` (one page of up to 100: a run logs a handful). */
  async loggedModelsOfRun(experimentId: string, runId: string): Promise<WireLoggedModel[]> {
    const page = await this.client.request<{ models?: WireLoggedModel[] }>('POST', `${API}/logged-models/search`, {
      experiment_ids: [experimentId],
      filter: `source_run_id = ${quoted(runId)}`,
      max_results: 100,
    });
    return page.models ?? [];
  }

  // --- registry ---

  async getRegisteredModel(name: string): Promise<WireRegisteredModel> {
    return (await this.client.request<{ registered_model: WireRegisteredModel }>('GET', `${API}/registered-models/get`, { name })).registered_model;
  }

  async updateRegisteredModel(name: string, description: string): Promise<void> {
    await this.client.request('PATCH', `${API}/registered-models/update`, { name, description });
  }

  async getModelVersion(name: string, version: string): Promise<WireModelVersion> {
    return (await this.client.request<{ model_version: WireModelVersion }>('GET', `${API}/model-versions/get`, { name, version })).model_version;
  }

  /** Versions registered from a run (MLflow 2 `runs:/` sources and MLflow 3 logged models alike carry run_id). */
  async versionsOfRun(runId: string): Promise<WireModelVersion[]> {
    const page = await this.client.request<{ model_versions?: WireModelVersion[] }>('GET', `${API}/model-versions/search`, { filter: `run_id = ${quoted(runId)}`, max_results: 1000 });
    return page.model_versions ?? [];
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<void> {
    await this.client.request('PATCH', `${API}/model-versions/update`, { name, version, description });
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.client.request('POST', `${API}/model-versions/set-tag`, { name, version, key, value });
  }

  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.client.request('DELETE', `${API}/model-versions/delete-tag`, { name, version, key });
  }

  async transitionStage(name: string, version: string, stage: string, archiveExistingVersions: boolean): Promise<WireModelVersion> {
    return (
      await this.client.request<{ model_version: WireModelVersion }>('POST', `${API}/model-versions/transition-stage`, { name, version, stage, archive_existing_versions: archiveExistingVersions })
    ).model_version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.request('POST', `${API}/registered-models/alias`, { name, alias, version });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.client.request('DELETE', `${API}/registered-models/alias`, { name, alias });
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.client.request('DELETE', `${API}/model-versions/delete`, { name, version });
  }
}
