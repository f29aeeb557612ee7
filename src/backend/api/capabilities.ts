/**
 * What a backend can do, so the server and the views can say "read-only" up front instead of
 * failing a write, and so the contract suite runs only the tests a backend claims to pass.
 */
export interface BackendCapabilities {
  /** Every write is refused (an existing mlflow.db or mlruns/ opened in place). */
  readonly readOnly: boolean;
  /** What is served, for views that label a source ("the mlflow.db at /x"). */
  readonly description?: string;
  /** How to get a writable copy, shown beside the read-only label. */
  readonly importHint?: string;
}

/** The local Runlens store: everything. */
export const FULL_CAPABILITIES: BackendCapabilities = { readOnly: false };
