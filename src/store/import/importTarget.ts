/**
 * What an import writes through: the same journaled ops every request produces (so an import is
 * as durable as any write, and a crash mid-import loses only what was never acknowledged), the
 * store's artifact tree, and the trace payload path. Only the local store provides one.
 */
import type { ArtifactStore } from '../artifacts/artifactStore';
import type { Op } from '../ops';
import type { SqlDb } from '../sqlite';
import type { StoreChange } from '../../backend/api/changes';
import type { Traces } from '../traces/traceStore';

export interface ImportTarget {
  /** Read-only use: existence checks that make an import idempotent. */
  readonly db: SqlDb;
  /** Applies an op now, resolves once it is journaled; callers may issue many before awaiting. */
  write(op: Op): Promise<void>;
  /** Tells the store's listeners (views, change feed) that something changed. */
  notify(change: StoreChange): void;
  readonly artifacts: ArtifactStore;
  readonly traces: Traces;
  /** The artifact location a new experiment with this id gets (`mlflow-artifacts:/<id>` by default). */
  artifactLocation(experimentId: number): string;
}
