/**
 * Entry point. Activation only wires things up (no store load); the tracking server starts right
 * after, in the background, so terminals get MLFLOW_TRACKING_URI without delaying the window.
 */
import * as vscode from 'vscode';
import type { RunlensApi } from './api';
import { TrackingService } from './backend/trackingService';
import { registerExperimentCommands } from './commands/experimentCommands';
import { startLanguageClient } from './languageClient';
import { guarded } from './commands/guard';
import { registerLogArtifact, RunDropController } from './commands/logArtifact';
import { registerRunCommands } from './commands/runCommands';
import { affects, readSettings } from './config';
import { COMPARE_SCHEME, RUN_SCHEME, RunDocumentProvider } from './runDocument/runDocumentProvider';
import { createSampleScript, createTraceSample, WALKTHROUGH_ID } from './sampleScript';
import { showStatusMenu, StatusBar } from './statusBar';
import { LaunchRunner } from './terminal/launchRunner';
import { ShellCommandTagger } from './terminal/shellCommandTagger';
import { ModelsTree } from './tree/modelsTree';
import { registerModelCommands } from './models/modelCommands';
import { MODEL_SCHEME, ModelDocumentProvider } from './models/modelDocument';
import { SourcesTree } from './tree/sourcesTree';
import { withLoadProgress } from './tree/loadProgress';
import { StoreSources } from './sources/storeSources';
import { registerImportCommands } from './sources/importCommands';
import { registerPublishCommand } from './sources/publishCommand';
import { registerRemoteCommands } from './sources/remoteCommands';
import { RemoteServers } from './sources/remoteSources';
import { serverLevel } from './backend/trackingService';
import { isRunNode, WORKSPACE_SOURCE } from './tree/nodes';
import { revealAfterNewRuns } from './tree/followNewRuns';
import { ViewPanels } from './webviews/viewPanels';
import { PlotsView } from './webviews/plotsView';
import { terminalEnvironment } from './terminal/terminalEnvironment';
import type { ExplorerNode } from './tree/nodes';

function updateTerminalEnvironment(context: vscode.ExtensionContext, service: TrackingService): void {
  const env = context.environmentVariableCollection;
  const settings = readSettings();
  const state = service.state;
  env.clear();
  const wanted = terminalEnvironment({
    inject: settings.injectEnvironment,
    localUrl: state.kind === 'ready' ? state.url : undefined,
    trackingServer: settings.trackingServer,
    defaultExperiment: settings.defaultExperiment,
  });
  if (!wanted) return;
  for (const [k, v] of Object.entries(wanted.vars)) env.replace(k, v);
  env.description = new vscode.MarkdownString(wanted.description);
}

let active: TrackingService | undefined;
let activeSources: StoreSources | undefined;

export function activate(context: vscode.ExtensionContext): RunlensApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Runlens', { log: true });
  const service = new TrackingService(context, log);
  active = service;
  const sources = new StoreSources(context.asAbsolutePath('dist/cli.js'), log, () => serverLevel(log.logLevel));
  const workspaceStore = {
    key: WORKSPACE_SOURCE,
    readOnly: false,
    ready: () => service.ready(),
    get client() {
      return service.client;
    },
  };
  activeSources = sources;
  const remotes = new RemoteServers(sources, context.secrets, log);
  const experiments = new SourcesTree(workspaceStore, sources);
  const models = new ModelsTree(service);
  const documents = new RunDocumentProvider(workspaceStore, sources);
  const statusBar = new StatusBar(service);
  const launches = new LaunchRunner(service, log);
  const refreshRun = (runId: string): void => documents.runChanged(runId);
  const drop = new RunDropController(service, log, refreshRun);
  // A slow source's nodes show the view's progress bar after ~300 ms (others load meanwhile).
  const viewProgress = (viewId: string) => (loading: Promise<unknown>) => void vscode.window.withProgress({ location: { viewId } }, () => loading);
  const explorer = vscode.window.createTreeView<ExplorerNode>('runlens.experiments', {
    treeDataProvider: withLoadProgress(experiments, viewProgress('runlens.experiments')),
    canSelectMany: true,
    showCollapseAll: true,
    dragAndDropController: drop,
  });
  // Several versions can be selected: Compare Model Versions diffs two.
  const modelsView = vscode.window.createTreeView('runlens.models', { treeDataProvider: withLoadProgress(models, viewProgress('runlens.models')), showCollapseAll: true, canSelectMany: true });
  context.subscriptions.push(log, service, sources, remotes, experiments, models, documents, statusBar, explorer, modelsView, new ShellCommandTagger(service, log));
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(RUN_SCHEME, documents),
    vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, documents),
    vscode.workspace.registerTextDocumentContentProvider(MODEL_SCHEME, new ModelDocumentProvider(service)),
  );

  // Live updates: the server's change feed drives the tree, documents and status bar.
  const newRuns = new Set<string>();
  let keptSelection: string[] = [];
  context.subscriptions.push(
    service.onDidChange((change) => {
      if (change.kind === 'experiment') {
        experiments.scheduleRootRefresh();
        return;
      }
      if (change.kind === 'trace') {
        experiments.scheduleTraceRefresh(change.experimentId);
        return;
      }
      if (change.created) newRuns.add(change.runId);
      experiments.scheduleExperimentRefresh(change.experimentId);
      documents.runChanged(change.runId);
      statusBar.scheduleCount();
      models.scheduleRefresh();
    }),
    experiments.onDidRefresh(async (experimentId) => {
      if (!experimentId || newRuns.size === 0) return;
      const ids = [...newRuns];
      newRuns.clear();
      if (!explorer.visible) return;
      const current = explorer.selection.filter(isRunNode).map((n) => n.run.info.run_id);
      // Re-reading an experiment can drop the tree's selection: put the user's back, without focus.
      const selected = current.length ? current : keptSelection;
      const target = revealAfterNewRuns(selected, ids, readSettings().autoRevealNewRuns);
      const node = target ? await experiments.findRunNode(target) : undefined;
      const restore = current.length === 0 && target !== undefined && target === keptSelection[0];
      if (node) await explorer.reveal(node, { select: restore, focus: false, expand: false }).then(undefined, () => undefined);
    }),
    explorer.onDidChangeSelection((e) => {
      const runs = e.selection.filter(isRunNode).map((n) => n.run.info.run_id);
      // An empty selection right after a refresh is the tree's doing, not the user's.
      if (runs.length) keptSelection = runs;
    }),
    service.onDidChangeState((state) => {
      log.info(`tracking server: ${state.kind}${state.kind === 'ready' ? ` ${state.url}` : ''}`);
      statusBar.render();
      updateTerminalEnvironment(context, service);
      void vscode.commands.executeCommand('setContext', 'runlens.serverState', state.kind);
      if (state.kind === 'ready') {
        statusBar.scheduleCount();
        experiments.refreshAll();
        models.refresh();
      }
      if (state.kind === 'failed') {
        const actions = state.recoverable ? ['Recover Store', 'Show Output'] : state.crashed ? ['Restart Tracking Server', 'Show Output'] : ['Open Settings', 'Show Output'];
        void vscode.window.showErrorMessage(`Runlens: ${state.message}`, ...actions).then((c) => {
          if (c === 'Recover Store') void service.recover();
          if (c === 'Restart Tracking Server') void service.restart();
          if (c === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'runlens.storePath');
          if (c === 'Show Output') log.show();
        });
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, 'storePath', 'server.port')) void service.restart();
      else if (affects(e, 'terminal.injectEnvironment', 'terminal.trackingServer', 'defaultExperiment')) updateTerminalEnvironment(context, service);
      if (affects(e, 'explorer')) experiments.refreshAll();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void service.restart()),
  );

  const views = new ViewPanels(context, service, log, sources);
  new PlotsView(views, service, explorer, context);
  registerRunCommands(context, service, log, views, sources, () => explorer.selection);
  registerImportCommands(context, service, sources, experiments, log);
  registerRemoteCommands(context, remotes, sources, log);
  registerPublishCommand(context, remotes, sources, log);
  registerExperimentCommands(context, service, experiments, explorer, log, views);
  startLanguageClient(context, service, log);
  registerLogArtifact(context, service, log, refreshRun);
  registerModelCommands(context, service, models, views, log);
  launches.register(context);
  const reg = (id: string, title: string, fn: (...args: unknown[]) => Promise<unknown>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(log, title, fn)));
  };
  reg('runlens.copyTrackingUri', 'Copy Tracking URI', async () => {
    await service.ready();
    const url = service.client.baseUrl;
    await vscode.env.clipboard.writeText(url);
    void vscode.window.showInformationMessage(`Runlens: copied ${url}`);
    return url;
  });
  reg('runlens.restartServer', 'Restart Tracking Server', () => service.restart());
  reg('runlens.stopServer', 'Stop Tracking Server', () => service.stop());
  reg('runlens.startServer', 'Start Tracking Server', () => service.ready());
  reg('runlens.showOutput', 'Show Output', async () => log.show());
  reg('runlens.openSettings', 'Open Settings', () => Promise.resolve(vscode.commands.executeCommand('workbench.action.openSettings', '@ext:runlens.runlens')));
  reg('runlens.showStatusMenu', 'Runlens Menu', () => showStatusMenu(service));
  reg('runlens.createSampleScript', 'Create Sample Script', () => createSampleScript());
  reg('runlens.createTraceSample', 'Create Traced LLM Sample', () => createTraceSample());
  reg('runlens.openWalkthrough', 'Get Started with Runlens', () => Promise.resolve(vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false)));
  reg('runlens.refreshModels', 'Refresh Models', async () => models.refresh());

  void service.ready();
  void sources.discover();
  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms; starting the tracking server`);
  void service.ready().then(() => {
    if (service.startupMs !== undefined) log.info(`tracking server ready ${service.startupMs} ms after activation`);
  });
  return { service, sources, remotes, experiments, explorer, models, launches, statusBar, drop, activationMs };
}

/** Awaited by VS Code: the server process checkpoints the store and releases its lock before the host exits. */
export async function deactivate(): Promise<void> {
  await Promise.all([active?.stop(), activeSources?.stop()]);
  active = undefined;
  activeSources = undefined;
}
