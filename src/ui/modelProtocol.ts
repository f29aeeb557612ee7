/** What the run page's Models section and the model pages show (part of the view protocol). */

/** One input, output or param of a model signature, as MLflow's schema JSON describes it. */
export interface SignatureField {
  name?: string;
  /** A column type (`double`, `string`, `array<double>`…) or a tensor's dtype (`float64`). */
  type: string;
  /** Tensors only: `-1` is a variable dimension. */
  shape?: number[];
  tensor: boolean;
  required: boolean;
  /** Params only. */
  default?: string;
}

export interface ModelSignatureView {
  inputs?: SignatureField[];
  outputs?: SignatureField[];
  params?: SignatureField[];
}

export interface ModelVersionRef {
  name: string;
  version: string;
  stage?: string;
  aliases: string[];
}

/** A model a run logged: an MLflow 3 logged model, or an MLflow 2 model directory among the run's artifacts. */
export interface RunModelView {
  /** MLflow 3 logged models only. */
  modelId?: string;
  name: string;
  kind: 'loggedModel' | 'runArtifacts';
  /** runArtifacts: the directory under the run's artifacts holding the MLmodel. */
  artifactPath?: string;
  status?: string;
  modelType?: string;
  flavors: string[];
  signature?: ModelSignatureView;
  /** The saved input example as stored (JSON text), cut at 64 KB. */
  inputExample?: { text: string; truncated: boolean; type?: string };
  metrics: { key: string; value: number; step: number; dataset?: string }[];
  params: Record<string, string>;
  versions: ModelVersionRef[];
  mlflowVersion?: string;
  created?: string;
  sizeBytes?: number;
  /** Why the MLmodel could not be read, when it could not. */
  problem?: string;
}

export interface ModelVersionDetail {
  name: string;
  version: string;
  stage: string;
  status?: string;
  aliases: string[];
  description: string;
  tags: Record<string, string>;
  source: string;
  created?: number;
  updated?: number;
  user?: string;
  runId?: string;
  runName?: string;
  experimentId?: string;
  experimentName?: string;
  /** The logged model or run-artifact model the version was registered from, when it can be found. */
  model?: RunModelView;
  /** All aliases of the registered model, to show which version holds which. */
  modelAliases: { alias: string; version: string }[];
}

export interface RegisteredModelDetail {
  name: string;
  description: string;
  tags: Record<string, string>;
  aliases: { alias: string; version: string }[];
  versions: { version: string; stage: string; aliases: string[]; runId?: string; created?: number; description: string }[];
}

/** The model views' request kinds → [request fields, result] (merged into UiCalls). */
export interface ModelCalls {
  runModels: [{ runId: string }, RunModelView[]];
  modelVersion: [{ name: string; version: string }, ModelVersionDetail];
  registeredModel: [{ name: string }, RegisteredModelDetail];
  setModelVersionDescription: [{ name: string; version: string; description: string }, { ok: true }];
  setModelVersionTag: [{ name: string; version: string; key: string; value: string }, { ok: true }];
  deleteModelVersionTag: [{ name: string; version: string; key: string }, { ok: true }];
  setRegisteredModelDescription: [{ name: string; description: string }, { ok: true }];
}

/** What a model page keeps across reloads: a version page with `version`, else the registered model's page. */
export interface ModelPageState {
  name: string;
  version?: string;
}

/** `models:/name/version` or `models:/name@alias`, the URIs `mlflow.pyfunc.load_model` takes. */
export function modelUri(name: string, version: string | { alias: string }): string {
  return typeof version === 'string' ? `models:/${name}/${version}` : `models:/${name}@${version.alias}`;
}
