/** Logged models (MLflow 3): what `mlflow.<flavor>.log_model` creates. */
import type { LoggedModel } from '../../domain/modelTypes';
import type { Page, Tag } from '../../domain/types';

export interface CreateLoggedModelRequest {
  experimentId: string;
  name?: string | undefined;
  modelType?: string | undefined;
  sourceRunId?: string | undefined;
  params: Tag[];
  tags: Tag[];
}

export interface LoggedModelOrder {
  field: string;
  ascending: boolean;
  datasetName?: string | undefined;
  datasetDigest?: string | undefined;
}

export interface SearchLoggedModelsRequest {
  experimentIds: string[];
  filter?: string | undefined;
  datasets?: { name: string; digest?: string | undefined }[];
  maxResults?: number | undefined;
  orderBy?: LoggedModelOrder[];
  pageToken?: string | undefined;
}

export interface LoggedModelStore {
  create(req: CreateLoggedModelRequest): Promise<LoggedModel>;
  get(modelId: string): Promise<LoggedModel>;
  finalize(modelId: string, status: string): Promise<LoggedModel>;
  delete(modelId: string): Promise<void>;
  setTags(modelId: string, tags: Tag[]): Promise<void>;
  deleteTag(modelId: string, key: string): Promise<void>;
  logParams(modelId: string, params: Tag[]): Promise<void>;
  search(req: SearchLoggedModelsRequest): Promise<Page<LoggedModel>>;
}
