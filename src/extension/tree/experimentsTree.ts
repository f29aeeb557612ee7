/**
 * The experiments explorer: experiments → runs, child runs nested under their parent, paged per
 * experiment ("Load more"), filtered with the MLflow filter language and sorted by a chosen key.
 * Refreshes from the server's change feed, throttled per experiment, so a training run updates
 * live without re-reading the whole store.
 */
import * as vscode from 'vscode';
import type { StoreHandle } from '../sources/storeSources';
import { TrackingApiError } from '../../client/trackingClient';
import { PARENT_RUN_TAG, type WireExperiment, type WireRun } from '../../client/wireTypes';
import { readSettings, type RunlensSettings } from '../config';
import { KeyedThrottle } from '../throttle';
import { missingAncestors, placeAncestors } from './filterAncestors';
import { buildRunForest, mergeRuns } from './runForest';
import { experimentTreeItem, runTreeItem } from './treeItems';
import type { ExperimentNode, ExplorerNode, LoadMoreNode, RunNode } from './nodes';

export interface ExplorerSort {
  label: string;
  orderBy: string[];
}

export const DEFAULT_SORT: ExplorerSort = { label: 'Start time (newest first)', orderBy: ['attributes.start_time DESC'] };

interface ExperimentRuns {
  runs: WireRun[];
  /** Runs shown only as the ancestors of runs that match the filter. */
  contextIds?: Set<string>;
  /** Undefined when the server cannot count traces. */
  traceCount?: { count: number; capped: boolean };
  nextPageToken?: string;
  loading?: Promise<void>;
  error?: string;
}

const REFRESH_INTERVAL_MS = 150;
/** Traces counted at most for an experiment node on a plain MLflow server (three search pages at most; more shows as "1,000+"). */
const TREE_TRACE_COUNT_CAP = 1000;

export class ExperimentsTree implements vscode.TreeDataProvider<ExplorerNode> {
  protected readonly emitter = new vscode.EventEmitter<ExplorerNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly refreshedEmitter = new vscode.EventEmitter<string | undefined>();
  /** Fires after an experiment's runs (or the root, undefined) were re-read; tests and auto-reveal use it. */
  readonly onDidRefresh = this.refreshedEmitter.event;

  private experiments: ExperimentNode[] | undefined;
  private readonly runsByExperiment = new Map<string, ExperimentRuns>();
  private readonly throttle = new KeyedThrottle();
  private rootError: string | undefined;
  private rootEmpty = false;
  filter = '';
  sort: ExplorerSort = DEFAULT_SORT;
  showDeleted = false;
  /** Timing of the last full experiment reload, for the refresh measurement. */
  lastReloadMs: number | undefined;

  /**
   * `nested`: the tree of a found store under its source node, which shows an empty store as a
   * message rather than as the workspace's welcome view.
   */
  constructor(
    protected readonly source: StoreHandle,
    private readonly nested = false,
  ) {}

  // --- refresh ---

  /** Read once per full refresh, not per tree item (getTreeItem runs for every visible run). */
  private settings: RunlensSettings = readSettings();

  /** Re-reads everything (filter, sort, settings or server changed). */
  refreshAll(): void {
    this.settings = readSettings();
    this.experiments = undefined;
    this.runsByExperiment.clear();
    this.emitter.fire(undefined);
  }

  /**
   * Debounced re-read of one experiment's runs after the server reported writes. Experiments
   * whose runs were never loaded (collapsed) cost nothing; an unknown experiment re-lists the root.
   */
  scheduleExperimentRefresh(experimentId: string): void {
    if (!this.runsByExperiment.has(experimentId)) {
      if (!this.experiments?.some((e) => e.experiment.experiment_id === experimentId)) this.scheduleRootRefresh();
      return;
    }
    this.debounce(experimentId, () => void this.reloadExperiment(experimentId));
  }

  /** A trace was written: update that experiment's Traces count, or leave the welcome view. */
  scheduleTraceRefresh(experimentId: string): void {
    if (this.rootEmpty) this.scheduleRootRefresh();
    else this.scheduleExperimentRefresh(experimentId);
  }

  /** The list of experiments changed: re-list them, keeping the runs already loaded. */
  scheduleRootRefresh(): void {
    this.debounce('', () => {
      this.experiments = undefined;
      this.emitter.fire(undefined);
    });
  }

  /** The interval grows with the cost of the last reload so big trees stay responsive. */
  private debounce(key: string, fn: () => void): void {
    this.throttle.schedule(key, Math.max(REFRESH_INTERVAL_MS, 5 * (this.lastReloadMs ?? 0)), fn);
  }

  private async reloadExperiment(experimentId: string): Promise<void> {
    const state = this.runsByExperiment.get(experimentId);
    const keep = Math.max(state?.runs.length ?? 0, this.settings.pageSize);
    try {
      await this.loadRuns(experimentId, Math.min(keep, 10_000), true);
    } catch {
      // the error is shown as a message node
    }
    const node = this.experiments?.find((e) => e.experiment.experiment_id === experimentId);
    this.emitter.fire(node);
    this.refreshedEmitter.fire(experimentId);
  }

  // --- data ---

  private async loadExperiments(): Promise<ExperimentNode[]> {
    await this.source.ready();
    const list = await this.source.client.listExperiments(this.showDeleted ? 'ALL' : 'ACTIVE_ONLY');
    const source = this.nested ? this.source.key : undefined;
    return list.map((experiment): ExperimentNode => ({ type: 'experiment', experiment, ...(source ? { source } : {}) }));
  }

  /** Loads (or re-loads, `replace`) the first `count` runs of an experiment in pages of ≤1000. */
  private async loadRuns(experimentId: string, count: number, replace: boolean): Promise<void> {
    const t0 = Date.now();
    const client = this.source.client;
    let runs: WireRun[] = replace ? [] : (this.runsByExperiment.get(experimentId)?.runs ?? []);
    let token = replace ? undefined : this.runsByExperiment.get(experimentId)?.nextPageToken;
    const target = replace ? count : runs.length + count;
    // The Traces count is fetched alongside the runs, not after them, so a refresh is not slower.
    // A plain MLflow server counts by paging its trace search: a few pages at most for the tree.
    const traceCount = client.traceCountAtMost(experimentId, TREE_TRACE_COUNT_CAP).catch(() => undefined);
    try {
      do {
        const page = await client.searchRuns({
          experimentIds: [experimentId],
          filter: this.filter,
          orderBy: this.sort.orderBy,
          maxResults: Math.min(1000, target - runs.length),
          pageToken: token,
          viewType: this.showDeleted ? 'ALL' : 'ACTIVE_ONLY',
        });
        runs = mergeRuns(runs, page.runs);
        token = page.nextPageToken;
      } while (token && runs.length < target);
      let contextIds: Set<string> | undefined;
      if (this.filter) {
        const before = replace ? undefined : this.runsByExperiment.get(experimentId)?.contextIds;
        const matching = before ? runs.filter((r) => !before.has(r.info.run_id)) : runs;
        const ancestors = await missingAncestors(client, experimentId, matching, this.showDeleted ? 'ALL' : 'ACTIVE_ONLY');
        contextIds = new Set(ancestors.map((r) => r.info.run_id));
        runs = placeAncestors(matching, ancestors);
      }
      const traces = await traceCount;
      this.runsByExperiment.set(experimentId, { runs, nextPageToken: token, ...(contextIds?.size ? { contextIds } : {}), ...(traces !== undefined ? { traceCount: traces } : {}) });
      this.lastReloadMs = Date.now() - t0;
    } catch (err) {
      this.runsByExperiment.set(experimentId, { runs: [], error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  /** Runs currently loaded in the tree for an experiment (tests, quick picks). */
  loadedRuns(experimentId: string): WireRun[] {
    return this.runsByExperiment.get(experimentId)?.runs ?? [];
  }

  // --- TreeDataProvider ---

  async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    if (!node) return this.rootChildren();
    if (node.type === 'experiment') return this.experimentChildren(node);
    if (node.type === 'run') return this.runChildren(node);
    return [];
  }

  private async rootChildren(): Promise<ExplorerNode[]> {
    try {
      this.experiments ??= await this.loadExperiments();
      this.rootError = undefined;
    } catch (err) {
      this.rootError = err instanceof Error ? err.message : String(err);
      this.experiments = undefined;
      return [{ type: 'message', message: this.rootError, isError: true }];
    }
    const experiments = this.experiments;
    if (this.nested) return experiments;
    // An empty store (only the Default experiment, no runs) shows the welcome view instead.
    const empty = experiments.length <= 1 && !this.filter && (await this.storeHasNoRuns(experiments));
    this.rootEmpty = empty;
    await vscode.commands.executeCommand('setContext', 'runlens.storeEmpty', empty);
    // The walkthrough's "Log a first run" step completes on it (storeEmpty is unset at first).
    if (!empty) await vscode.commands.executeCommand('setContext', 'runlens.hasRuns', true);
    this.refreshedEmitter.fire(undefined);
    return empty ? [] : experiments;
  }

  private async storeHasNoRuns(experiments: ExperimentNode[]): Promise<boolean> {
    if (experiments.length === 0) return true;
    const page = await this.source.client.searchRuns({ experimentIds: experiments.map((e) => e.experiment.experiment_id), maxResults: 1, viewType: 'ALL' });
    if (page.runs.length > 0) return false;
    // Traces alone (an LLM app with no training runs) are not an empty store either.
    const traces = await Promise.all(experiments.map((e) => this.source.client.traceCountAtMost(e.experiment.experiment_id, 1).then((c) => c.count, () => 0)));
    return traces.every((n) => n === 0);
  }

  private async experimentChildren(node: ExperimentNode): Promise<ExplorerNode[]> {
    const id = node.experiment.experiment_id;
    let state = this.runsByExperiment.get(id);
    if (!state) {
      try {
        await this.loadRuns(id, this.settings.pageSize, true);
      } catch {
        // reported below
      }
      state = this.runsByExperiment.get(id)!;
    }
    if (state.error) return [{ type: 'message', message: state.error, parent: node, isError: true }];
    const traces: ExplorerNode[] = state.traceCount?.count ? [{ type: 'traces', parent: node, count: state.traceCount.count, ...(state.traceCount.capped ? { capped: true } : {}) }] : [];
    if (state.runs.length === 0) return traces.length && !this.filter ? traces : [...traces, { type: 'message', message: this.filter ? 'No runs match the filter' : 'No runs yet', parent: node }];
    const forest = buildRunForest(state.runs);
    const items: ExplorerNode[] = [...traces, ...forest.roots.map((run): RunNode => ({ type: 'run', run, parent: node, loadedChildren: forest.childrenOf.get(run.info.run_id) ?? [] }))];
    if (state.nextPageToken) items.push({ type: 'loadMore', parent: node, shown: state.runs.length } satisfies LoadMoreNode);
    return items;
  }

  /** Children are re-queried on expand so ones beyond the loaded pages show too. */
  private async runChildren(node: RunNode): Promise<ExplorerNode[]> {
    let children = node.loadedChildren;
    const state = this.runsByExperiment.get(node.run.info.experiment_id);
    // With every page loaded, the loaded children are all of them.
    if (state && !state.nextPageToken && !state.error) return this.childNodes(node, children);
    try {
      const filter = [this.filter, `tags.\`${PARENT_RUN_TAG}\` = '${node.run.info.run_id}'`].filter(Boolean).join(' AND ');
      const page = await this.source.client.searchRuns({
        experimentIds: [node.run.info.experiment_id],
        filter,
        orderBy: this.sort.orderBy,
        maxResults: 1000,
        viewType: this.showDeleted ? 'ALL' : 'ACTIVE_ONLY',
      });
      children = mergeRuns(children, page.runs);
    } catch {
      // fall back to the children loaded with the page
    }
    return this.childNodes(node, children);
  }

  private childNodes(node: RunNode, children: WireRun[]): RunNode[] {
    const forest = buildRunForest(this.runsByExperiment.get(node.run.info.experiment_id)?.runs ?? []);
    return children.map((run) => ({ type: 'run', run, parent: node, loadedChildren: forest.childrenOf.get(run.info.run_id) ?? [] }));
  }

  getParent(node: ExplorerNode): ExplorerNode | undefined {
    return node.type === 'experiment' || node.type === 'source' ? undefined : node.parent;
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    switch (node.type) {
      case 'source':
        return new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.Expanded);
      case 'experiment':
      {
        const state = this.runsByExperiment.get(node.experiment.experiment_id);
        return experimentTreeItem(node.experiment, state?.error ? undefined : state && state.runs.length - (state.contextIds?.size ?? 0), Boolean(state?.nextPageToken));
      }
      case 'run':
        return runTreeItem(node.run, node.loadedChildren.length > 0, this.descriptionMetric(), this.isContext(node.run));
      case 'loadMore': {
        const item = new vscode.TreeItem(`Load more runs… (${node.shown} shown)`);
        item.id = `loadMore:${node.parent.experiment.experiment_id}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'runlens.loadMoreRuns', title: 'Load More Runs', arguments: [node] };
        return item;
      }
      case 'traces': {
        const id = node.parent.experiment.experiment_id;
        const item = new vscode.TreeItem('Traces');
        item.id = `traces:${id}`;
        item.description = `${node.count.toLocaleString()}${node.capped ? '+' : ''} trace${node.count === 1 && !node.capped ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('pulse');
        item.tooltip = 'Open the traces and sessions of this experiment';
        item.contextValue = 'runlens.traces';
        item.command = { command: 'runlens.openTraces', title: 'Open Traces', arguments: [node.parent] };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.message);
        item.iconPath = new vscode.ThemeIcon(node.isError ? 'warning' : 'info');
        item.tooltip = node.message;
        return item;
      }
    }
  }

  /** The metric the runs are sorted by (its value is what the user compares), else the setting's. */
  descriptionMetric(): string {
    const m = /^metrics\.(?:`([^`]+)`|(\S+))\s/.exec(this.sort.orderBy[0] ?? '');
    return m ? (m[1] ?? m[2]!) : this.settings.descriptionMetric;
  }

  /** Whether a run is shown only as the ancestor of runs that match the filter. */
  isContext(run: WireRun): boolean {
    return this.runsByExperiment.get(run.info.experiment_id)?.contextIds?.has(run.info.run_id) ?? false;
  }

  async loadMore(node: LoadMoreNode): Promise<void> {
    const id = node.parent.experiment.experiment_id;
    await this.loadRuns(id, this.settings.pageSize, false).catch(() => undefined);
    this.emitter.fire(node.parent);
  }

  /** The node for a run among loaded ones (for reveal after a refresh). */
  async findRunNode(runId: string): Promise<RunNode | undefined> {
    for (const exp of this.experiments ?? []) {
      const stack: ExplorerNode[] = await this.experimentChildren(exp);
      while (stack.length) {
        const n = stack.shift()!;
        if (n.type !== 'run') continue;
        if (n.run.info.run_id === runId) return n;
        if (n.loadedChildren.length) stack.push(...n.loadedChildren.map((run): RunNode => ({ type: 'run', run, parent: n, loadedChildren: [] })));
      }
    }
    return undefined;
  }

  experimentName(experimentId: string): string | undefined {
    return this.experiments?.find((e) => e.experiment.experiment_id === experimentId)?.experiment.name;
  }

  knownExperiments(): WireExperiment[] {
    return (this.experiments ?? []).map((e) => e.experiment);
  }

  dispose(): void {
    this.throttle.dispose();
    this.emitter.dispose();
    this.refreshedEmitter.dispose();
  }
}

export function describeError(err: unknown): string {
  if (err instanceof TrackingApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
