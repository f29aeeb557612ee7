/** The status bar item: tracking URI and active runs, with a menu of server actions. */
import * as vscode from 'vscode';
import type { TrackingService } from './backend/trackingService';
import { KeyedThrottle } from './throttle';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('runlens.status', vscode.StatusBarAlignment.Left, 50);
  private activeRuns = 0;
  private readonly throttle = new KeyedThrottle();

  constructor(private readonly service: TrackingService) {
    this.item.name = 'Runlens Tracking Server';
    this.item.command = 'runlens.showStatusMenu';
    this.render();
    this.item.show();
  }

  /** Recounts RUNNING runs (throttled: called on every change event). */
  scheduleCount(): void {
    this.throttle.schedule('count', 1000, () => void this.count());
  }

  private async count(): Promise<void> {
    if (this.service.state.kind !== 'ready') return;
    try {
      const client = this.service.client;
      const ids = (await client.listExperiments()).map((e) => e.experiment_id);
      this.activeRuns = ids.length ? (await client.searchRuns({ experimentIds: ids, filter: "attributes.status = 'RUNNING'", maxResults: 1000 })).runs.length : 0;
    } catch {
      // the server went away; the state change re-renders
    }
    this.render();
  }

  get running(): number {
    return this.activeRuns;
  }

  render(): void {
    const s = this.service.state;
    switch (s.kind) {
      case 'ready':
        this.item.text = `$(beaker) Runlens${this.activeRuns ? ` $(sync~spin) ${this.activeRuns}` : ''}`;
        this.item.tooltip = new vscode.MarkdownString(
          `**Runlens** ${s.backend === 'attached' ? 'attached to' : 'serving'} \`${s.url}\`\n\nStore: \`${s.root}\`\n\n${this.activeRuns} active run(s). New terminals log here (MLFLOW_TRACKING_URI).`,
        );
        this.item.backgroundColor = undefined;
        break;
      case 'starting':
        this.item.text = '$(loading~spin) Runlens';
        this.item.tooltip = 'Starting the tracking server…';
        break;
      case 'failed':
        this.item.text = '$(warning) Runlens';
        this.item.tooltip = `${s.message}\n\n${s.fix}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
      case 'noWorkspace':
        this.item.text = '$(beaker) Runlens';
        this.item.tooltip = 'Open a folder: Runlens keeps its store in the workspace.';
        break;
      default:
        this.item.text = '$(debug-stop) Runlens';
        this.item.tooltip = 'The tracking server is stopped.';
    }
  }

  dispose(): void {
    this.throttle.dispose();
    this.item.dispose();
  }
}

export async function showStatusMenu(service: TrackingService): Promise<void> {
  const ready = service.state.kind === 'ready';
  const items: (vscode.QuickPickItem & { command: string })[] = [
    ...(ready ? [{ label: '$(copy) Copy Tracking URI', description: service.url, command: 'runlens.copyTrackingUri' }] : []),
    { label: '$(table) Open Runs Table', command: 'runlens.openRunsTable' },
    { label: '$(list-tree) Show Experiments', command: 'runlens.experiments.focus' },
    { label: '$(debug-restart) Restart Tracking Server', command: 'runlens.restartServer' },
    ready ? { label: '$(debug-stop) Stop Tracking Server', command: 'runlens.stopServer' } : { label: '$(play) Start Tracking Server', command: 'runlens.startServer' },
    { label: '$(output) Show Output', command: 'runlens.showOutput' },
    { label: '$(gear) Settings', command: 'runlens.openSettings' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Runlens' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
