/** How MLflow's stores write enums the wire spells out: shared by the mlflow.db and mlruns/ readers. */
import type { LoggedModelStatus } from '../../domain/modelTypes';

/** The stage a deleted model version keeps in the store; no MLflow read returns such a version. */
export const STAGE_DELETED_INTERNAL = 'Deleted_Internal';

/** `LoggedModelStatus.to_int`: 0 (unspecified) has no Runlens value and reads as pending. */
export function loggedModelStatus(stored: number): LoggedModelStatus {
  return stored === 2 ? 'LOGGED_MODEL_READY' : stored === 3 ? 'LOGGED_MODEL_UPLOAD_FAILED' : 'LOGGED_MODEL_PENDING';
}
