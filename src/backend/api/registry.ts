/** The model registry (MLflow's registry store): registered models, versions, stages, aliases, tags. */
import type { ModelVersion, RegisteredModel } from '../../domain/modelTypes';
import type { Page, Tag } from '../../domain/types';

export interface CreateModelVersionRequest {
  name: string;
  source: string;
  runId?: string | undefined;
  runLink?: string | undefined;
  description?: string | undefined;
  modelId?: string | undefined;
  tags: Tag[];
  userId?: string | undefined;
}

export interface RegistrySearchRequest {
  filter?: string | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

/** Names arrive as the client sent them (possibly absent): the backend words the error. */
export interface ModelRegistryStore {
  createRegisteredModel(name: string | undefined, tags: Tag[], description?: string, userId?: string): Promise<RegisteredModel>;
  getRegisteredModel(name: string | undefined): Promise<RegisteredModel>;
  renameRegisteredModel(name: string | undefined, newName: string | undefined): Promise<RegisteredModel>;
  updateRegisteredModel(name: string | undefined, description: string | undefined): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string | undefined): Promise<void>;
  setRegisteredModelTag(name: string | undefined, key: string, value: string): Promise<void>;
  deleteRegisteredModelTag(name: string | undefined, key: string): Promise<void>;
  setAlias(name: string | undefined, alias: string, version: string): Promise<void>;
  deleteAlias(name: string | undefined, alias: string): Promise<void>;
  getVersionByAlias(name: string | undefined, alias: string): Promise<ModelVersion>;
  searchRegisteredModels(req: RegistrySearchRequest): Promise<Page<RegisteredModel>>;
  getLatestVersions(name: string | undefined, stages: string[]): Promise<ModelVersion[]>;
  createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion>;
  getModelVersion(name: string | undefined, version: string | undefined): Promise<ModelVersion>;
  updateModelVersion(name: string | undefined, version: string | undefined, description: string | undefined): Promise<ModelVersion>;
  transitionStage(name: string | undefined, version: string | undefined, stage: string, archiveExisting: boolean): Promise<ModelVersion>;
  deleteModelVersion(name: string | undefined, version: string | undefined): Promise<void>;
  setModelVersionTag(name: string | undefined, version: string | undefined, key: string, value: string): Promise<void>;
  deleteModelVersionTag(name: string | undefined, version: string | undefined, key: string): Promise<void>;
  /** The artifact URI a version's files are read from. */
  getDownloadUri(name: string | undefined, version: string | undefined): Promise<string>;
  searchModelVersions(req: RegistrySearchRequest): Promise<Page<ModelVersion>>;
}
