/**
 * Metric chart panels: webviews running the charts bundle under a strict CSP (nonce'd script,
 * resources only from dist/webview, no network: every request goes through postMessage to
 * UiBackend here). Panels survive a window reload through their serializer and saved state.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Logger } from '../../store/logger';
import { isToHost, type ChartsState, type ToView } from '../../ui/protocol';
import { renderPage } from '../../ui/pageHtml';
import { UiBackend } from '../../ui/uiBackend';
import type { TrackingService } from '../backend/trackingService';

export const CHARTS_VIEW_TYPE = 'runlens.charts';

export class ChartsPanels implements vscode.WebviewPanelSerializer<ChartsState> {
  private readonly open = new Set<vscode.WebviewPanel>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: TrackingService,
    private readonly log: Logger,
  ) {
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(CHARTS_VIEW_TYPE, this),
      service.onDidChange((change) => {
        if (change.kind !== 'run') return;
        const message: ToView = { type: 'push', push: { kind: 'runChanged', runId: change.runId, experimentId: change.experimentId } };
        for (const panel of this.open) void panel.webview.postMessage(message);
      }),
    );
  }

  /** Opens a chart panel for these runs. */
  show(runIds: string[], title: string): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(CHARTS_VIEW_TYPE, title, vscode.ViewColumn.Active, this.options());
    this.attach(panel, { runIds });
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: ChartsState | undefined): Promise<void> {
    panel.webview.options = this.options();
    this.attach(panel, state && Array.isArray(state.runIds) ? state : { runIds: [] });
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')] };
  }

  private attach(panel: vscode.WebviewPanel, state: ChartsState): void {
    const asset = (file: string): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', file)).toString();
    panel.webview.html = renderPage({
      title: panel.title,
      nonce: randomBytes(16).toString('base64'),
      source: panel.webview.cspSource,
      connect: "'none'",
      scriptUri: asset('charts.js'),
      styleUris: [asset('webview.css')],
      state,
    });
    this.open.add(panel);
    panel.onDidDispose(() => this.open.delete(panel));
    panel.webview.onDidReceiveMessage(async (message: unknown) => {
      if (!isToHost(message)) return;
      if (message.type === 'openDiff') {
        await vscode.commands.executeCommand('runlens.diffRuns', message.runIds);
        return;
      }
      let reply: ToView;
      try {
        await this.service.ready();
        reply = { type: 'response', id: message.id, ok: true, result: await new UiBackend(this.service.client).handle(message.request) };
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        this.log.warn(`charts view: ${message.request.kind} failed: ${text}`);
        reply = { type: 'response', id: message.id, ok: false, error: text };
      }
      void panel.webview.postMessage(reply);
    });
  }
}
