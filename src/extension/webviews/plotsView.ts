/**
 * The sidebar's Plots view (as vscode-dvc has): small key-metric curves of the runs selected in the
 * Experiments tree, following the selection and live while they log. The view is the charts
 * bundle's little sibling (dist/webview/plots.js), answered by the same request handler as the panels.
 */
import * as vscode from 'vscode';
import type { ExplorerNode } from '../tree/nodes';
import type { TrackingService } from '../backend/trackingService';
import { runIdsFromArgs, sourceFromArgs } from '../commands/runCommands';
import { pushFor, type ViewPanels } from './viewPanels';
import type { PlotsState, ToView } from '../../ui/protocol';

export const PLOTS_VIEW = 'runlens.plots';

export class PlotsView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private state: PlotsState = { runIds: [] };
  private source: string | undefined;
  private listening = false;

  constructor(
    private readonly panels: ViewPanels,
    service: TrackingService,
    explorer: vscode.TreeView<ExplorerNode>,
    context: vscode.ExtensionContext,
  ) {
    context.subscriptions.push(
      vscode.window.registerWebviewViewProvider(PLOTS_VIEW, this),
      explorer.onDidChangeSelection((e) => this.select(e.selection)),
      service.onDidChange((change) => {
        const message = pushFor(change);
        if (message) void this.view?.webview.postMessage(message);
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = this.panels.webviewOptions();
    view.webview.html = this.panels.viewHtml(view.webview, 'plots', 'Plots', this.state);
    this.listening = false;
    view.webview.onDidReceiveMessage((m: unknown) => {
      // The view's first request says its script is up and hears pushes.
      this.listening = true;
      return this.panels.receive('plots', view.webview, m, this.source);
    });
    view.onDidDispose(() => {
      this.panels.cancelRequests(view.webview);
      this.view = undefined;
    });
  }

  /** The runs the view shows (for tests and commands): the tree's selected runs. */
  get runIds(): string[] {
    return this.state.runIds;
  }

  private select(selection: readonly ExplorerNode[]): void {
    const runIds = runIdsFromArgs(undefined, selection);
    // Selecting an experiment or a folder keeps the last runs in view.
    if (runIds.length === 0) return;
    this.state = { runIds };
    this.source = sourceFromArgs(undefined, selection);
    if (!this.view) return;
    // A push sent before the view's script listens is lost: a view still loading starts over with the selection.
    if (!this.listening) {
      this.panels.cancelRequests(this.view.webview);
      this.view.webview.html = this.panels.viewHtml(this.view.webview, 'plots', 'Plots', this.state);
      return;
    }
    const message: ToView = { type: 'push', push: { kind: 'selection', runIds } };
    void this.view.webview.postMessage(message);
  }
}
