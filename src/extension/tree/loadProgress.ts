/**
 * Progress for a tree view's slow loads: a node's children that take longer than ~300 ms to come
 * (a team server far away) show the view's progress bar, as VS Code's own views do; faster loads
 * show nothing. Each node's load is its own: a slow source never holds up another source's nodes
 * (the trees await only their own store). `show` is vscode.window.withProgress on the view, passed
 * in so this stays free of the VS Code runtime (unit-tested).
 */
import type { ProviderResult, TreeDataProvider } from 'vscode';

/** How long a load may take before the view shows progress. */
export const TREE_PROGRESS_AFTER_MS = 300;

/** `provider` with each getChildren that is still pending after `delayMs` handed to `show` (which shows progress until it settles). */
export function withLoadProgress<T>(provider: TreeDataProvider<T>, show: (loading: Promise<unknown>) => void, delayMs = TREE_PROGRESS_AFTER_MS): TreeDataProvider<T> {
  const getChildren = (element?: T): ProviderResult<T[]> => {
    const loading = Promise.resolve(provider.getChildren(element));
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) show(loading.catch(() => undefined));
    }, delayMs);
    void loading.finally(() => {
      settled = true;
      clearTimeout(timer);
    }).catch(() => undefined);
    return loading;
  };
  const wrapped: TreeDataProvider<T> = { getTreeItem: (element) => provider.getTreeItem(element), getChildren };
  if (provider.onDidChangeTreeData) wrapped.onDidChangeTreeData = provider.onDidChangeTreeData;
  if (provider.getParent) wrapped.getParent = (element) => provider.getParent!(element);
  if (provider.resolveTreeItem) wrapped.resolveTreeItem = (item, element, token) => provider.resolveTreeItem!(item, element, token);
  return wrapped;
}
