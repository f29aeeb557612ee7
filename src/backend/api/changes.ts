/** What a backend tells its readers after every acknowledged write, so views refresh without polling. */
export type StoreChange =
  | { kind: 'experiment'; experimentId: string }
  | { kind: 'run'; runId: string; experimentId: string; created?: boolean }
  | { kind: 'trace'; traceId: string; experimentId: string };

/** A subscription to a backend's changes; the returned function ends it. */
export type ChangeListener = (change: StoreChange) => void;
export interface ChangeSource {
  onDidChange(listener: ChangeListener): () => void;
}
