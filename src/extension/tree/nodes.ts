/** Tree nodes of the experiments explorer. Ids are stable (experiment/run ids) so expansion survives refreshes. */
import type { WireExperiment, WireRun } from '../../client/wireTypes';

export interface ExperimentNode {
  type: 'experiment';
  experiment: WireExperiment;
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
  parent?: ExperimentNode | RunNode;
  isError?: boolean;
}

/** The experiment's traces (opens the traces view); shown when it has any. */
export interface TracesNode {
  type: 'traces';
  parent: ExperimentNode;
  count: number;
}

export type ExplorerNode = ExperimentNode | RunNode | LoadMoreNode | MessageNode | TracesNode;

export function isRunNode(n: unknown): n is RunNode {
  return typeof n === 'object' && n !== null && (n as RunNode).type === 'run';
}

export function isExperimentNode(n: unknown): n is ExperimentNode {
  return typeof n === 'object' && n !== null && (n as ExperimentNode).type === 'experiment';
}
