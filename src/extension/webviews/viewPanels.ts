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
import type { ChangeEvent } from '../../client/changeStream';
import { renderPage, viewPreloads } from '../../ui/pageHtml';
import { isToHost, runTracesFilter, type ToHost, type ToView, type UiRequest } from '../../ui/protocol';
import { ViewRequests } from '../../ui/viewRequests';
import { openSourceAt } from './openSource';
import { UiBackend, type ViewPrefs } from '../../ui/uiBackend';
import { ViewWatches } from '../../ui/changePoller';
import { RemoteServerSource } from '../sources/remoteSources';
import type { TrackingService } from '../backend/trackingService';
import type { StoreSources } from '../sources/storeSources';
import type { TrackingClient } from '../../client/trackingClient';
import { artifactPathProblem } from '../../client/artifactPaths';
import { proxyPath } from '../../domain/artifactUri';

/** The push a store change means for the views, if any. */
export function pushFor(change: ChangeEvent): ToView | undefined {
  if (change.kind === 'run') return { type: 'push', push: { kind: 'runChanged', runId: change.runId, experimentId: change.experimentId } };
  if (change.kind === 'trace') return { type: 'push', push: { kind: 'traceChanged', traceId: change.traceId, experimentId: change.experimentId } };
  return undefined;
}

/** View type → the bundle it runs (dist/webview/<bundle>.js). */
export const VIEWS = {
  charts: 'runlens.charts',
  runs: 'runlens.runsTable',
  run: 'runlens.runPage',
  compare: 'runlens.compare',
  traces: 'runlens.traces',
  trace: 'runlens.traceViewer',
  datasets: 'runlens.evalDatasets',
  model: 'runlens.modelPage',
  governance: 'runlens.governance',
} as const;
export type ViewKind = keyof typeof VIEWS;

/** Views opened on a selection of runs: a new selection reuses the panel, as VS Code's preview editors do. */
const REUSED: ReadonlySet<ViewKind> = new Set<ViewKind>(['charts', 'compare']);

interface PanelInfo {
  kind: ViewKind;
  /** The found store the panel reads (undefined: the workspace store); a reused panel may switch. */
  source: string | undefined;
  /** A pinned panel keeps its runs: the next selection opens another panel. */
  pinned: boolean;
}

export class ViewPanels {
  private readonly open = new Map<vscode.WebviewPanel, PanelInfo>();
  /** The panel focused last, which the pin command acts on. */
  private active: vscode.WebviewPanel | undefined;
  /** The OS user, named as the source of feedback given in the views (read once). */
  private user: string | undefined;
  private manifest: string | undefined;
  /** What views on team servers show, polled for changes (a plain mlflow server has no change feed). */
  private readonly watches = new ViewWatches<vscode.Webview>((source, change) => this.pushTo(source, change));
  /** Each view's requests in flight, aborted on its cancel message or when it goes away. */
  private readonly requests = new ViewRequests<vscode.Webview>();

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
            // A panel restored after a reload is not reused: which one was the preview is not known.
            this.attach(kind, panel, typeof state === 'object' && state !== null ? state : {}, undefined, true);
          },
        }),
      );
    }
    context.subscriptions.push(
      vscode.commands.registerCommand('runlens.pinPanel', () => this.setPinned(true)),
      vscode.commands.registerCommand('runlens.unpinPanel', () => this.setPinned(false)),
    );
    context.subscriptions.push(
      service.onDidChange((change) => {
        const message = pushFor(change);
        if (message) for (const panel of this.open.keys()) void panel.webview.postMessage(message);
      }),
      { dispose: () => this.watches.dispose() },
    );
  }

  /** `source`: the found store's path when the view reads one (read-only), else the workspace store. */
  /** `preserveFocus`: open beside the user's focus (a preview from a tree click keeps the tree focused). */
  show(kind: ViewKind, state: object, title: string, source?: string, preserveFocus = false): vscode.WebviewPanel {
    const reuse = REUSED.has(kind) ? [...this.open].find(([, info]) => info.kind === kind && !info.pinned)?.[0] : undefined;
    if (reuse) {
      const info = this.open.get(reuse)!;
      this.watches.forget(reuse.webview);
      this.requests.cancelAll(reuse.webview);
      info.source = source;
      reuse.title = title;
      reuse.webview.html = this.page(reuse, kind, state);
      reuse.reveal(undefined, preserveFocus);
      return reuse;
    }
    const panel = vscode.window.createWebviewPanel(VIEWS[kind], title, { viewColumn: vscode.ViewColumn.Active, preserveFocus }, { ...this.options(), retainContextWhenHidden: kind === 'runs' || kind === 'traces' });
    this.attach(kind, panel, state, source, !REUSED.has(kind));
    return panel;
  }

  /** Pins (or unpins) the focused charts/compare panel: a pinned panel is not reused for the next selection. */
  setPinned(pinned: boolean): boolean {
    const info = this.active ? this.open.get(this.active) : undefined;
    if (!this.active || !info || !REUSED.has(info.kind)) return false;
    info.pinned = pinned;
    this.syncContext();
    return true;
  }

  /** Whether a panel is kept (pinned); undefined for a panel this object does not manage. */
  isPinned(panel: vscode.WebviewPanel): boolean | undefined {
    return this.open.get(panel)?.pinned;
  }

  private syncContext(): void {
    const info = this.active ? this.open.get(this.active) : undefined;
    void vscode.commands.executeCommand('setContext', 'runlens.panelPinned', Boolean(info?.pinned));
  }

  private page(panel: vscode.WebviewPanel, kind: ViewKind, state: object): string {
    const asset = (file: string): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', file)).toString();
    return renderPage({
      title: panel.title,
      nonce: randomBytes(16).toString('base64'),
      source: panel.webview.cspSource,
      connect: "'none'",
      scriptUri: asset(`${kind}.js`),
      preloadUris: this.preloads(kind).map(asset),
      styleUris: [asset('webview.css')],
      // A new opening in a reused panel must win over the state the webview kept from the last one.
      state: { ...state, openedAt: Date.now() },
    });
  }

  private options(): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')] };
  }

  private attach(kind: ViewKind, panel: vscode.WebviewPanel, state: object, source: string | undefined, pinned: boolean): void {
    const info: PanelInfo = { kind, source, pinned };
    this.open.set(panel, info);
    panel.webview.html = this.page(panel, kind, state);
    this.active = panel;
    this.syncContext();
    panel.onDidChangeViewState(() => {
      if (panel.active) this.active = panel;
      this.syncContext();
    });
    panel.onDidDispose(() => {
      this.open.delete(panel);
      this.watches.forget(panel.webview);
      this.requests.cancelAll(panel.webview);
      if (this.active === panel) this.active = undefined;
    });
    panel.webview.onDidReceiveMessage((message: unknown) => {
      const asked = info.source;
      // A slow answer for a panel since closed or moved to another store must not watch anew.
      return this.receive(kind, panel.webview, message, asked, () => this.open.get(panel) === info && info.source === asked);
    });
  }

  /** Answers a view's request (or runs its action) on the store `source` names. */
  async receive(kind: string, webview: vscode.Webview, message: unknown, source: string | undefined, stillShowing: () => boolean = () => true): Promise<void> {
    if (!isToHost(message)) return;
    if (message.type === 'action') return this.act(message, source);
    if (message.type === 'openSource') return void (await openSourceAt(message.path, message.line));
    const answer = async (request: UiRequest, signal: AbortSignal): Promise<unknown> => {
      const store = this.store(source);
      await store.ready();
      this.user ??= os.userInfo().username;
      const result = await new UiBackend(store.client, this.user, this.prefs(source)).handle(request, signal);
      if (source && store instanceof RemoteServerSource && stillShowing()) this.watches.note(webview, source, store.client, request);
      return result;
    };
    await this.requests.receive(webview, message, answer, (reply) => void webview.postMessage(reply), (request, text) => this.log.warn(`${kind} view: ${request.kind} failed: ${text}`));
  }

  /** Aborts what a view (a panel's webview, the Plots view) still waits for: it closed or got a new page. */
  cancelRequests(webview: vscode.Webview): void {
    this.requests.cancelAll(webview);
  }

  /** The HTML of a view outside a panel (the sidebar's Plots view). */
  viewHtml(webview: vscode.Webview, bundle: string, title: string, state: object): string {
    const asset = (file: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', file)).toString();
    return renderPage({ title, nonce: randomBytes(16).toString('base64'), source: webview.cspSource, connect: "'none'", scriptUri: asset(`${bundle}.js`), preloadUris: this.preloads(bundle).map(asset), styleUris: [asset('webview.css')], state, bodyClass: 'sidebar-view' });
  }

  /** A view's chunks from the build's manifest (read once: the build does not change under a running extension). */
  private preloads(view: string): string[] {
    this.manifest ??= (() => {
      try {
        return fs.readFileSync(path.join(this.context.extensionUri.fsPath, 'dist', 'webview', 'preload.json'), 'utf8');
      } catch {
        return '';
      }
    })();
    return viewPreloads(this.manifest, view);
  }

  webviewOptions(): vscode.WebviewOptions {
    return this.options();
  }

  /** View preferences in the workspace memento, per store, so a layout outlives its panel. */
  private prefs(source: string | undefined): ViewPrefs {
    const scope = `runlens.viewPrefs:${source ?? ''}:`;
    const memento = this.context.workspaceState;
    return { get: (key) => memento.get(scope + key), set: async (key, value) => memento.update(scope + key, value) };
  }

  /** A change a team server's poller saw, to the panels on that server. */
  private pushTo(source: string, change: ChangeEvent): void {
    const message = pushFor(change);
    if (!message) return;
    for (const [panel, info] of this.open) if (info.source === source) void panel.webview.postMessage(message);
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
    if (message.action === 'openModel') {
      const m = message.model;
      if (m && typeof m.name === 'string' && m.name) this.showModel(m.name, typeof m.version === 'string' ? m.version : undefined, source);
      return;
    }
    if (message.action === 'openTrace') {
      if (typeof message.traceId === 'string' && message.traceId) this.show('trace', { traceId: message.traceId }, `Trace ${message.traceId.slice(0, 11)}…`, source);
      return;
    }
    // The governance view's experiment links (the workspace store's experiments: its ids).
    if (message.action === 'openRunsTable') return void (await vscode.commands.executeCommand('runlens.openRunsTable', message.runIds));
    const commands = { openDiff: 'runlens.diffRuns', openCharts: 'runlens.showCharts', openRun: 'runlens.openRun', compare: 'runlens.compareRuns' } as const;
    // A found store's view opens the next view on the same store.
    const arg = source ? { runIds: message.runIds, source } : message.action === 'openRun' ? message.runIds[0] : message.runIds;
    await vscode.commands.executeCommand(commands[message.action], arg);
  }

  /** A model version's page (lineage, description, tags), or the registered model's page without a version. */
  showModel(name: string, version: string | undefined, source?: string): vscode.WebviewPanel {
    return this.show('model', version ? { name, version } : { name }, version ? `${name} v${version}` : `Model ${name}`, source);
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
