/**
 * Runlens views in webview panels (metric charts, runs table): one bundle per view under a strict
 * CSP (nonce'd script, resources only from dist/webview, no network — every request goes through
 * postMessage to UiBackend here). Panels survive a window reload through their serializers.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import { renderPage } from '../../ui/pageHtml';
import { isToHost, runTracesFilter, type ToHost, type ToView } from '../../ui/protocol';
import { UiBackend, type ViewPrefs } from '../../ui/uiBackend';
import type { TrackingService } from '../backend/trackingService';
import type { StoreSources } from '../sources/storeSources';
import type { TrackingClient } from '../../client/trackingClient';
import { artifactPathProblem } from '../../client/artifactPaths';
import { proxyPath } from '../../domain/artifactUri';

/** View type → the bundle it runs (dist/webview/<bundle>.js). */
export const VIEWS = {
  charts: 'runlens.charts',
  runs: 'runlens.runsTable',
  run: 'runlens.runPage',
  compare: 'runlens.compare',
  traces: 'runlens.traces',
  trace: 'runlens.traceViewer',
  datasets: 'runlens.evalDatasets',
} as const;
export type ViewKind = keyof typeof VIEWS;

export class ViewPanels {
  private readonly open = new Set<vscode.WebviewPanel>();
  /** The OS user, named as the source of feedback given in the views (read once). */
  private user: string | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: TrackingService,
    private readonly log: Logger,
    private readonly sources?: StoreSources,
  ) {
    for (const kind of Object.keys(VIEWS) as ViewKind[]) {
      context.subscriptions.push(
        vscode.window.registerWebviewPanelSerializer(VIEWS[kind], {
          deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
            panel.webview.options = this.options();
            this.attach(kind, panel, typeof state === 'object' && state !== null ? state : {});
          },
        }),
      );
    }
    context.subscriptions.push(
      service.onDidChange((change) => {
        let message: ToView;
        if (change.kind === 'run') message = { type: 'push', push: { kind: 'runChanged', runId: change.runId, experimentId: change.experimentId } };
        else if (change.kind === 'trace') message = { type: 'push', push: { kind: 'traceChanged', traceId: change.traceId, experimentId: change.experimentId } };
        else return;
        for (const panel of this.open) void panel.webview.postMessage(message);
      }),
    );
  }

  /** `source`: the found store's path when the view reads one (read-only), else the workspace store. */
  /** `preserveFocus`: open beside the user's focus (a preview from a tree click keeps the tree focused). */
  show(kind: ViewKind, state: object, title: string, source?: string, preserveFocus = false): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(VIEWS[kind], title, { viewColumn: vscode.ViewColumn.Active, preserveFocus }, { ...this.options(), retainContextWhenHidden: kind === 'runs' || kind === 'traces' });
    this.attach(kind, panel, state, source);
    return panel;
  }

  private options(): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')] };
  }

  private attach(kind: ViewKind, panel: vscode.WebviewPanel, state: object, source?: string): void {
    const asset = (file: string): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', file)).toString();
    panel.webview.html = renderPage({
      title: panel.title,
      nonce: randomBytes(16).toString('base64'),
      source: panel.webview.cspSource,
      connect: "'none'",
      scriptUri: asset(`${kind}.js`),
      styleUris: [asset('webview.css')],
      state,
    });
    this.open.add(panel);
    panel.onDidDispose(() => this.open.delete(panel));
    panel.webview.onDidReceiveMessage(async (message: unknown) => {
      if (!isToHost(message)) return;
      if (message.type === 'action') return this.act(message, source);
      let reply: ToView;
      try {
        const store = this.store(source);
        await store.ready();
        this.user ??= os.userInfo().username;
        reply = { type: 'response', id: message.id, ok: true, result: await new UiBackend(store.client, this.user, this.prefs(source)).handle(message.request) };
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        this.log.warn(`${kind} view: ${message.request.kind} failed: ${text}`);
        reply = { type: 'response', id: message.id, ok: false, error: text };
      }
      void panel.webview.postMessage(reply);
    });
  }

  /** View preferences in the workspace memento, per store, so a layout outlives its panel. */
  private prefs(source: string | undefined): ViewPrefs {
    const scope = `runlens.viewPrefs:${source ?? ''}:`;
    const memento = this.context.workspaceState;
    return { get: (key) => memento.get(scope + key), set: async (key, value) => memento.update(scope + key, value) };
  }

  /** The store a panel reads: a found store (its path) or the workspace's. */
  private store(source: string | undefined): { ready(): Promise<void>; readonly client: TrackingClient } {
    if (!source) return this.service;
    const found = this.sources?.get(source);
    if (!found) throw new Error(`${source} is no longer among the workspace's MLflow stores.`);
    return found;
  }

  private async act(message: Extract<ToHost, { type: 'action' }>, source?: string): Promise<void> {
    if (message.action === 'openArtifact') return this.openArtifact(message.runIds[0] ?? '', message.path ?? '', source);
    if (message.action === 'openRunTraces') return this.openRunTraces(message.runIds[0] ?? '', source);
    if (message.action === 'openTrace') {
      if (typeof message.traceId === 'string' && message.traceId) this.show('trace', { traceId: message.traceId }, `Trace ${message.traceId.slice(0, 11)}…`, source);
      return;
    }
    const commands = { openDiff: 'runlens.diffRuns', openCharts: 'runlens.showCharts', openRun: 'runlens.openRun', compare: 'runlens.compareRuns' } as const;
    // A found store's view opens the next view on the same store.
    const arg = source ? { runIds: message.runIds, source } : message.action === 'openRun' ? message.runIds[0] : message.runIds;
    await vscode.commands.executeCommand(commands[message.action], arg);
  }

  /** The traces view filtered to one run's traces (an evaluation run's rows, a training run's calls). */
  private async openRunTraces(runId: string, source?: string): Promise<void> {
    try {
      const store = this.store(source);
      await store.ready();
      const run = await store.client.getRun(runId);
      this.show('traces', { experimentIds: [run.info.experiment_id], filter: runTracesFilter(runId) }, `Traces: ${run.info.run_name || runId.slice(0, 8)}`, source);
    } catch (err) {
      void vscode.window.showErrorMessage(`Runlens: could not open the traces of run ${runId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Opens an artifact in an editor: the file itself when this window can see the store, else a copy. */
  private async openArtifact(runId: string, artifactPath: string, source?: string): Promise<void> {
    try {
      const store = this.store(source);
      await store.ready();
      const run = await store.client.getRun(runId);
      const uri = run.info.artifact_uri ?? '';
      const state = this.service.state;
      // A found store's proxied artifacts are not under the workspace store's folder.
      const base = source ? undefined : proxyPath(uri);
      if (state.kind === 'ready' && base !== undefined && !artifactPathProblem(artifactPath)) {
        const file = vscode.Uri.file(path.join(state.root, base, artifactPath));
        if (fs.existsSync(file.fsPath)) {
          await vscode.commands.executeCommand('vscode.open', file);
          return;
        }
      }
      const preview = await new UiBackend(store.client).handle({ kind: 'artifact', runId, path: artifactPath });
      if (preview.kind !== 'text') throw new Error(`${artifactPath} is not a text file that can be opened here.`);
      const doc = await vscode.workspace.openTextDocument({ content: preview.text });
      await vscode.window.showTextDocument(doc);
    } catch (err) {
      void vscode.window.showErrorMessage(`Runlens: could not open ${artifactPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
