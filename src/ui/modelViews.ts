/**
 * Answers the model requests of the views: a run's models (MLflow 3 logged models from the run's
 * outputs and a logged-model search by source run, plus MLflow 2 model directories among its
 * artifacts), a model version with its lineage, a registered model, and their edits.
 */
import type { TrackingClient } from '../client/trackingClient';
import { ModelsClient, type WireLoggedModel } from '../client/modelsClient';
import type { WireModelVersion, WireRun } from '../client/wireTypes';
import { proxyPath } from '../domain/artifactUri';
import type { ModelCalls, ModelVersionDetail, ModelVersionRef, RegisteredModelDetail, RunModelView } from './modelProtocol';
import { readMlmodel } from './modelSignature';

const MLMODEL_LIMIT = 256 * 1024;
const EXAMPLE_LIMIT = 64 * 1024;
/** Run artifact directories looked into for an MLflow 2 MLmodel (a run rarely has more at its root). */
const MAX_DIRS = 25;

type Req<K extends keyof ModelCalls> = ModelCalls[K][0];
type Res<K extends keyof ModelCalls> = ModelCalls[K][1];

const tagsOf = (tags: { key: string; value: string }[] | undefined): Record<string, string> => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));

function versionRef(v: WireModelVersion): ModelVersionRef {
  return { name: v.name, version: v.version, aliases: v.aliases ?? [], ...(v.current_stage && v.current_stage !== 'None' ? { stage: v.current_stage } : {}) };
}

/** The run-artifact directory a version's source names (`runs:/<run>/<dir>` or `…/<run>/artifacts/<dir>`), if it is `runId`'s. */
export function sourceArtifactPath(source: string, runId: string): string | undefined {
  const runs = /^runs:\/([^/]+)\/(.+?)\/*$/.exec(source);
  if (runs) return runs[1] === runId ? runs[2] : undefined;
  const marker = `/${runId}/artifacts/`;
  const at = source.indexOf(marker);
  return at >= 0 ? source.slice(at + marker.length).replace(/\/+$/, '') : undefined;
}

/** The logged model id of a `models:/m-…` source (MLflow 3 registers logged models by that URI). */
export function sourceModelId(source: string): string | undefined {
  return /^models:\/(m-[0-9a-f]+)$/.exec(source)?.[1];
}

/** `versions` with the aliases pointing at each (a search answer has none; a get has them already). */
function aliased(versions: WireModelVersion[], aliases: { alias: string; version: string }[]): WireModelVersion[] {
  return versions.map((v) => (v.aliases?.length ? v : { ...v, aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias) }));
}

export class ModelViews {
  private readonly models: ModelsClient;

  constructor(private readonly client: TrackingClient) {
    this.models = new ModelsClient(client);
  }

  /** Answers a model request; undefined when `request` is not one (the caller answers it). */
  handle(request: { kind: string }): Promise<unknown> | undefined {
    const r = request as never;
    switch (request.kind as keyof ModelCalls) {
      case 'runModels':
        return this.runModels(r);
      case 'modelVersion':
        return this.modelVersion(r);
      case 'registeredModel':
        return this.registeredModel(r);
      case 'setModelVersionDescription':
        return this.setModelVersionDescription(r);
      case 'setModelVersionTag':
        return this.setModelVersionTag(r);
      case 'deleteModelVersionTag':
        return this.deleteModelVersionTag(r);
      case 'setRegisteredModelDescription':
        return this.setRegisteredModelDescription(r);
      default:
        return undefined;
    }
  }

  async runModels({ runId }: Req<'runModels'>): Promise<Res<'runModels'>> {
    const run = await this.client.getRun(String(runId));
    const versions = await this.withAliases(await this.models.versionsOfRun(run.info.run_id).catch(() => []));
    const logged = await this.loggedModelsOf(run);
    const out = await Promise.all(logged.map((m) => this.loggedModelView(m, versions.filter((v) => v.model_id === m.info.model_id || sourceModelId(v.source ?? '') === m.info.model_id))));
    const seen = new Set(logged.map((m) => m.info.model_id));
    for (const dir of await this.modelDirs(run.info.run_id)) {
      const view = await this.runArtifactModel(run, dir, versions.filter((v) => !v.model_id && sourceArtifactPath(v.source ?? '', run.info.run_id) === dir));
      if (!view.modelId || !seen.has(view.modelId)) out.push(view);
    }
    return out;
  }

  async modelVersion({ name, version }: Req<'modelVersion'>): Promise<Res<'modelVersion'>> {
    const [v, registered] = await Promise.all([this.models.getModelVersion(String(name), String(version)), this.models.getRegisteredModel(String(name))]);
    const detail: ModelVersionDetail = {
      name: v.name,
      version: v.version,
      stage: v.current_stage || 'None',
      aliases: v.aliases ?? [],
      description: v.description ?? '',
      tags: tagsOf(v.tags),
      source: v.source ?? '',
      modelAliases: registered.aliases ?? [],
    };
    if (v.status) detail.status = v.status;
    if (v.creation_timestamp) detail.created = v.creation_timestamp;
    if (v.last_updated_timestamp) detail.updated = v.last_updated_timestamp;
    if (v.user_id) detail.user = v.user_id;
    const run = v.run_id ? await this.client.getRun(v.run_id).catch(() => undefined) : undefined;
    if (v.run_id) detail.runId = v.run_id;
    if (run) {
      detail.runName = run.info.run_name || run.info.run_id;
      detail.experimentId = run.info.experiment_id;
      detail.experimentName = (await this.client.getExperiment(run.info.experiment_id).catch(() => undefined))?.name ?? run.info.experiment_id;
    }
    const modelId = v.model_id ?? sourceModelId(v.source ?? '');
    const logged = modelId ? await this.models.getLoggedModel(modelId).catch(() => undefined) : undefined;
    if (logged) detail.model = await this.loggedModelView(logged, [v]);
    else if (run) {
      const dir = sourceArtifactPath(v.source ?? '', run.info.run_id);
      if (dir) detail.model = await this.runArtifactModel(run, dir, [v]);
    }
    return detail;
  }

  async registeredModel({ name }: Req<'registeredModel'>): Promise<Res<'registeredModel'>> {
    const [m, listed] = await Promise.all([this.models.getRegisteredModel(String(name)), this.client.listModelVersions(String(name))]);
    const versions = aliased(listed, m.aliases ?? []);
    const detail: RegisteredModelDetail = {
      name: m.name,
      description: m.description ?? '',
      tags: tagsOf(m.tags),
      aliases: m.aliases ?? [],
      versions: versions.map((v) => ({
        version: v.version,
        stage: v.current_stage || 'None',
        aliases: v.aliases ?? [],
        description: v.description ?? '',
        ...(v.run_id ? { runId: v.run_id } : {}),
        ...(v.creation_timestamp ? { created: v.creation_timestamp } : {}),
      })),
    };
    return detail;
  }

  async setModelVersionDescription(r: Req<'setModelVersionDescription'>): Promise<Res<'setModelVersionDescription'>> {
    await this.models.updateModelVersion(String(r.name), String(r.version), String(r.description));
    return { ok: true };
  }

  async setModelVersionTag(r: Req<'setModelVersionTag'>): Promise<Res<'setModelVersionTag'>> {
    if (!String(r.key ?? '').trim()) throw new Error('A tag needs a key.');
    await this.models.setModelVersionTag(String(r.name), String(r.version), String(r.key).trim(), String(r.value ?? ''));
    return { ok: true };
  }

  async deleteModelVersionTag(r: Req<'deleteModelVersionTag'>): Promise<Res<'deleteModelVersionTag'>> {
    await this.models.deleteModelVersionTag(String(r.name), String(r.version), String(r.key));
    return { ok: true };
  }

  async setRegisteredModelDescription(r: Req<'setRegisteredModelDescription'>): Promise<Res<'setRegisteredModelDescription'>> {
    await this.models.updateRegisteredModel(String(r.name), String(r.description));
    return { ok: true };
  }

  /** Versions as found by a search (which, as in MLflow, leaves aliases out) with their registered models' aliases. */
  private async withAliases(versions: WireModelVersion[]): Promise<WireModelVersion[]> {
    const names = [...new Set(versions.map((v) => v.name))];
    const aliases = new Map(await Promise.all(names.map(async (n) => [n, (await this.models.getRegisteredModel(n).catch(() => undefined))?.aliases ?? []] as const)));
    return versions.flatMap((v) => aliased([v], aliases.get(v.name) ?? []));
  }

  /** The run's logged models: its outputs (what `log_model` records) and any whose source run it is. */
  private async loggedModelsOf(run: WireRun): Promise<WireLoggedModel[]> {
    const byId = new Map<string, WireLoggedModel>();
    // Servers before MLflow 3 have no logged models: both calls then fail and the run has none.
    for (const m of await this.models.loggedModelsOfRun(run.info.experiment_id, run.info.run_id).catch(() => [])) byId.set(m.info.model_id, m);
    const missing = (run.outputs?.model_outputs ?? []).map((o) => o.model_id).filter((id) => !byId.has(id));
    for (const m of await Promise.all(missing.map((id) => this.models.getLoggedModel(id).catch(() => undefined)))) if (m) byId.set(m.info.model_id, m);
    return [...byId.values()].sort((a, b) => a.info.creation_timestamp_ms - b.info.creation_timestamp_ms);
  }

  /** Top-level run artifact directories holding an MLmodel (MLflow 2 `log_model(artifact_path=…)`). */
  private async modelDirs(runId: string): Promise<string[]> {
    const root = await this.client.listArtifacts(runId).catch(() => []);
    const dirs = root.filter((f) => f.is_dir).slice(0, MAX_DIRS);
    const found = await Promise.all(dirs.map(async (d) => ((await this.client.listArtifacts(runId, d.path).catch(() => [])).some((f) => !f.is_dir && f.path === `${d.path}/MLmodel`) ? d.path : undefined)));
    return found.filter((d): d is string => d !== undefined);
  }

  private async loggedModelView(m: WireLoggedModel, versions: WireModelVersion[]): Promise<RunModelView> {
    const view: RunModelView = {
      modelId: m.info.model_id,
      name: m.info.name,
      kind: 'loggedModel',
      status: m.info.status,
      flavors: [],
      metrics: (m.data.metrics ?? []).map((x) => ({ key: x.key, value: Number(x.value), step: Number(x.step ?? 0), ...(x.dataset_name ? { dataset: x.dataset_name } : {}) })),
      params: tagsOf(m.data.params),
      versions: versions.map(versionRef),
    };
    if (m.info.model_type) view.modelType = m.info.model_type;
    await this.fillFromMlmodel(view, m.info.artifact_uri);
    return view;
  }

  private async runArtifactModel(run: WireRun, dir: string, versions: WireModelVersion[]): Promise<RunModelView> {
    const view: RunModelView = { name: dir, kind: 'runArtifacts', artifactPath: dir, flavors: [], metrics: [], params: {}, versions: versions.map(versionRef) };
    await this.fillFromMlmodel(view, `${(run.info.artifact_uri ?? '').replace(/\/+$/, '')}/${dir}`);
    return view;
  }

  /** Flavors, signature and input example from the MLmodel under `artifactUri`; a problem when it cannot be read. */
  private async fillFromMlmodel(view: RunModelView, artifactUri: string): Promise<void> {
    const base = proxyPath(artifactUri);
    if (base === undefined) {
      view.problem = `The model files at ${artifactUri} are not served by this tracking server.`;
      return;
    }
    try {
      const info = readMlmodel(await this.text(`${base}/MLmodel`, MLMODEL_LIMIT).then((t) => t.text));
      view.flavors = info.flavors;
      if (info.signature) view.signature = info.signature;
      if (info.mlflowVersion) view.mlflowVersion = info.mlflowVersion;
      if (info.created) view.created = info.created;
      if (info.sizeBytes !== undefined) view.sizeBytes = info.sizeBytes;
      if (info.modelId && !view.modelId) view.modelId = info.modelId;
      if (info.inputExample) {
        const example = await this.text(`${base}/${info.inputExample.path}`, EXAMPLE_LIMIT).catch(() => undefined);
        if (example) view.inputExample = { ...example, ...(info.inputExample.type ? { type: info.inputExample.type } : {}) };
      }
    } catch (err) {
      view.problem = `MLmodel could not be read: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async text(path: string, limit: number): Promise<{ text: string; truncated: boolean }> {
    const got = await this.client.downloadArtifact(path, limit + 1);
    return { text: new TextDecoder().decode(got.data.subarray(0, limit)), truncated: got.total > limit };
  }
}
