/** GenAI evaluation datasets and registered scorers (MLflow 3). */
import type { DatasetRecord, EvalDataset, ScorerVersion } from '../../domain/datasetTypes';
import type { Page } from '../../domain/types';

export interface SearchDatasetsRequest {
  experimentIds: string[];
  filter?: string | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

/** Tags and records arrive as the JSON text the client sent; the backend validates it as MLflow does. */
export interface EvalDatasetStore {
  create(name: string, experimentIds: string[], tagsJson: string | undefined): Promise<EvalDataset>;
  get(id: string): Promise<EvalDataset>;
  /** Idempotent, as in MLflow: deleting an unknown dataset succeeds. */
  delete(id: string): Promise<void>;
  search(req: SearchDatasetsRequest): Promise<Page<EvalDataset>>;
  setTags(id: string, tagsJson: string): Promise<void>;
  deleteTag(id: string, key: string): Promise<void>;
  upsertRecords(id: string, recordsJson: string): Promise<{ inserted: number; updated: number }>;
  records(id: string, maxResults: number | undefined, pageToken: string | undefined): Promise<{ records: DatasetRecord[]; nextPageToken?: string }>;
  deleteRecords(id: string, recordIds: string[]): Promise<number>;
  /** Linked experiment ids, oldest link first; an unknown dataset has none. */
  experimentIds(id: string): Promise<string[]>;
  addToExperiments(id: string, experimentIds: string[]): Promise<EvalDataset>;
  /** Idempotent: experiments the dataset is not linked to are skipped. */
  removeFromExperiments(id: string, experimentIds: string[]): Promise<EvalDataset>;
}

export interface ScorerStore {
  register(experimentId: string, name: string, serialized: string): Promise<ScorerVersion>;
  /** Latest version of every scorer in one active experiment. */
  list(experimentId: string): Promise<ScorerVersion[]>;
  /**
   * Latest version of every scorer across the active experiments among `experimentIds` (each an
   * integer; unknown or deleted ones drop out), or across all active experiments when undefined.
   */
  listLatest(experimentIds: string[] | undefined): Promise<ScorerVersion[]>;
  versions(experimentId: string, name: string): Promise<ScorerVersion[]>;
  get(experimentId: string, name: string, version?: number): Promise<ScorerVersion>;
  /** Without a version: the scorer and all its versions. With one: only that version. */
  delete(experimentId: string, name: string, version?: number): Promise<void>;
}
