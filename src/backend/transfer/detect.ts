/**
 * The read-only source for an MLflow store path (its kind from detectKind.ts).
 */
import * as path from 'node:path';
import { FileStoreSource } from '../filestore/fileStoreSource';
import { MlflowDbSource } from '../mlflowdb/mlflowDbSource';
import type { MlflowSource, SourceOptions } from '../api/source';
import { detectMlflowStore } from './detectKind';

export { detectMlflowStore, RUNLENS_MARKER, type MlflowStoreKind } from './detectKind';

/** Opens the MLflow store at `p` read-only; throws when `p` is neither kind. */
export async function openMlflowSource(p: string, opts: SourceOptions = {}): Promise<MlflowSource> {
  const abs = path.resolve(p);
  switch (detectMlflowStore(abs)) {
    case 'mlflow.db':
      return MlflowDbSource.open(abs, opts);
    case 'mlruns':
      return new FileStoreSource(abs, opts);
    default:
      throw new Error(`${abs} is neither an mlflow.db nor a legacy MLflow file store (mlruns/ with <experiment id>/meta.yaml or models/).`);
  }
}
