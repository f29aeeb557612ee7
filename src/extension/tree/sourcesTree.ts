/**
 * The explorer with sources: when the workspace holds MLflow stores besides Runlens's own, the
 * root lists "Workspace store" and one node per found store, each with the same experiments →
 * runs tree (an ExperimentsTree per store, reading through that store's read-only server). With
 * no found store the root is the workspace's experiments, exactly as without this layer.
 */
import * as vscode from 'vscode';
import type { StoreHandle, StoreSources } from '../sources/storeSources';
import { ExperimentsTree } from './experimentsTree';
import { readOnlyContextValue, sourceOf, WORKSPACE_SOURCE, type ExplorerNode, type LoadMoreNode, type SourceNode } from './nodes';

export class SourcesTree extends ExperimentsTree {
  private readonly stores = new Map<string, ExperimentsTree>();
  private readonly sourceNodes = new Map<string, SourceNode>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    workspace: StoreHandle,
    private readonly sources: StoreSources,
  ) {
    super(workspace);
    this.subscriptions.push(
      sources.onDidChange(() => this.sourcesChanged()),
      sources.onDidChangeContent((key) => {
        // Debounced per store: MLflow writes a database in bursts.
        this.throttleStore(key);
      }),
    );
  }

  private sourceNode(key: string): SourceNode {
    let node = this.sourceNodes.get(key);
    if (!node) this.sourceNodes.set(key, (node = { type: 'source', key }));
    return node;
  }

  /** Whether the root shows sources (at least one found store). */
  get showsSources(): boolean {
    return this.sources.list().length > 0;
  }

  /** The tree of a found store, made on first use and given the explorer's filter and sort. */
  storeTree(key: string): ExperimentsTree | undefined {
    const handle = this.sources.get(key);
    if (!handle) return undefined;
    let tree = this.stores.get(key);
    if (!tree) {
      tree = new ExperimentsTree(handle, true);
      this.stores.set(key, tree);
      this.subscriptions.push(tree.onDidChangeTreeData((n) => this.emitter.fire(n ?? this.sourceNode(key))));
    }
    tree.filter = this.filter;
    tree.sort = this.sort;
    tree.showDeleted = this.showDeleted;
    return tree;
  }

  private readonly storeTimers = new Map<string, NodeJS.Timeout>();

  private throttleStore(key: string): void {
    if (this.storeTimers.has(key)) return;
    this.storeTimers.set(
      key,
      setTimeout(() => {
        this.storeTimers.delete(key);
        const tree = this.stores.get(key);
        if (!tree) return;
        tree.refreshAll();
        this.emitter.fire(this.sourceNode(key));
      }, 500),
    );
  }

  private sourcesChanged(): void {
    for (const [key, tree] of this.stores) {
      if (this.sources.get(key)) continue;
      tree.dispose();
      this.stores.delete(key);
      this.sourceNodes.delete(key);
    }
    this.emitter.fire(undefined);
  }

  /** Also looks for stores again (a few file checks), so Refresh picks up one the watcher missed. */
  override refreshAll(): void {
    void this.sources.discover();
    for (const tree of this.stores.values()) tree.refreshAll();
    super.refreshAll();
  }

  override async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    if (!node) {
      if (!this.showsSources) return super.getChildren(undefined);
      return [this.sourceNode(WORKSPACE_SOURCE), ...this.sources.list().map((s) => this.sourceNode(s.key))];
    }
    if (node.type === 'source') return this.sourceChildren(node);
    const key = sourceOf(node);
    if (key === undefined) return super.getChildren(node);
    return (await this.storeTree(key)?.getChildren(node)) ?? [];
  }

  private async sourceChildren(node: SourceNode): Promise<ExplorerNode[]> {
    if (node.key === WORKSPACE_SOURCE) {
      const children = await super.getChildren(undefined);
      return children.length ? children : [{ type: 'message', message: 'No runs yet', parent: node }];
    }
    const tree = this.storeTree(node.key);
    if (!tree) return [];
    try {
      await this.sources.get(node.key)!.ready();
    } catch (err) {
      return [{ type: 'message', message: `Could not open this store: ${err instanceof Error ? err.message : String(err)}`, parent: node, isError: true }];
    }
    const children = (await tree.getChildren(undefined)).map((c) => (c.type === 'message' && !c.parent ? { ...c, parent: node } : c));
    return children.length ? children : [{ type: 'message', message: 'No experiments', parent: node }];
  }

  override async loadMore(node: LoadMoreNode): Promise<void> {
    const key = sourceOf(node);
    const tree = key === undefined ? undefined : this.storeTree(key);
    return tree ? tree.loadMore(node) : super.loadMore(node);
  }

  override getParent(node: ExplorerNode): ExplorerNode | undefined {
    if (node.type === 'source') return undefined;
    if (node.type === 'experiment') return this.showsSources ? this.sourceNode(node.source ?? WORKSPACE_SOURCE) : undefined;
    return super.getParent(node);
  }

  override getTreeItem(node: ExplorerNode): vscode.TreeItem {
    if (node.type === 'source') return this.sourceItem(node);
    const key = sourceOf(node);
    const tree = key === undefined ? undefined : this.storeTree(key);
    if (!tree) return super.getTreeItem(node);
    const item = tree.getTreeItem(node);
    // Run and experiment ids repeat across stores (an imported run keeps its id).
    if (item.id) item.id = `${key}|${item.id}`;
    item.contextValue = readOnlyContextValue(item.contextValue);
    if (node.type === 'run' && item.command) item.command = { ...item.command, arguments: [node] };
    return item;
  }

  private sourceItem(node: SourceNode): vscode.TreeItem {
    if (node.key === WORKSPACE_SOURCE) {
      const item = new vscode.TreeItem('Workspace store', vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'source:workspace';
      item.iconPath = new vscode.ThemeIcon('database');
      item.tooltip = "Runlens's store for this workspace: scripts run from its terminals log here.";
      item.contextValue = 'runlens.source;workspace';
      return item;
    }
    const source = this.sources.get(node.key);
    const item = new vscode.TreeItem(source?.label ?? node.key, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `source:${node.key}`;
    item.description = source?.description ?? 'read-only';
    item.iconPath = new vscode.ThemeIcon(source?.icon ?? 'lock');
    item.tooltip = source?.tooltip ?? node.key;
    item.contextValue = source?.contextValue ?? 'runlens.source;mlflow';
    return item;
  }

  override dispose(): void {
    for (const t of this.storeTimers.values()) clearTimeout(t);
    for (const d of this.subscriptions) d.dispose();
    for (const tree of this.stores.values()) tree.dispose();
    super.dispose();
  }
}
