/** Tree nodes of the experiments explorer. Ids are stable (experiment/run ids) so expansion survives refreshes. */
import type { WireExperiment, WireRun } from '../../client/wireTypes';

export interface ExperimentNode {
  type: 'experiment';
  experiment: WireExperiment;
  /** The found store it belongs to (its path); absent for the workspace's own store. */
  source?: string;
}

/** The source key of the workspace's own store; found stores are keyed by their path. */
export const WORKSPACE_SOURCE = 'workspace';

/** A store shown at the root when the workspace has found MLflow stores beside its own. */
export interface SourceNode {
  type: 'source';
  /** WORKSPACE_SOURCE, or the found store's path. */
  key: string;
}

export interface RunNode {
  type: 'run';
  run: WireRun;
  parent: ExperimentNode | RunNode;
  /** Children already loaded with the experiment's pages. */
  loadedChildren: WireRun[];
}

export interface LoadMoreNode {
  type: 'loadMore';
  parent: ExperimentNode;
  shown: number;
}

export interface MessageNode {
  type: 'message';
  message: string;
  parent?: ExperimentNode | RunNode | SourceNode;
  isError?: boolean;
}

/** The experiment's traces (opens the traces view); shown when it has any. */
export interface TracesNode {
  type: 'traces';
  parent: ExperimentNode;
  count: number;
  /** A plain MLflow server's traces are counted up to a cap: there are more than `count`. */
  capped?: boolean;
}

export type ExplorerNode = SourceNode | ExperimentNode | RunNode | LoadMoreNode | MessageNode | TracesNode;

export function isRunNode(n: unknown): n is RunNode {
  return typeof n === 'object' && n !== null && (n as RunNode).type === 'run';
}

export function isExperimentNode(n: unknown): n is ExperimentNode {
  return typeof n === 'object' && n !== null && (n as ExperimentNode).type === 'experiment';
}

/** The found store a node belongs to (its path), undefined for the workspace's own store. */
export function sourceOf(n: ExplorerNode): string | undefined {
  let cur: ExplorerNode | undefined = n;
  while (cur) {
    if (cur.type === 'experiment') return cur.source;
    if (cur.type === 'source') return cur.key === WORKSPACE_SOURCE ? undefined : cur.key;
    cur = cur.parent;
  }
  return undefined;
}

/** Context values of a read-only store's nodes: the write actions' menus match `;active`/`;deleted` right after the kind, so they do not match this. */
export function readOnlyContextValue(value: string | undefined): string | undefined {
  return value?.replace(/^(runlens\.(?:run|experiment));(active|deleted)/, '$1;readonly;$2');
}
