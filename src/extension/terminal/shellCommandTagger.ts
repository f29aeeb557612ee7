/**
 * For commands typed by hand in an integrated terminal (which log through the injected
 * MLFLOW_TRACKING_URI), shell integration tells us the command line, working directory and exit
 * code. When such a command ends, the runs it started — created while it ran, not launched by
 * the editor, and whose source file appears in the command line — get those as tags.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import type { TrackingService } from '../backend/trackingService';
import { tagValue } from '../../client/wireTypes';

const SLACK_MS = 1000;

interface Execution {
  commandLine: string;
  cwd: string | undefined;
  startedAt: number;
}

export class ShellCommandTagger implements vscode.Disposable {
  private readonly running = new Map<vscode.TerminalShellExecution, Execution>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly service: TrackingService,
    private readonly log: Logger,
  ) {
    // Older hosts have no shell execution events: nothing to record there.
    if (typeof vscode.window.onDidStartTerminalShellExecution !== 'function') return;
    this.subscriptions.push(
      vscode.window.onDidStartTerminalShellExecution((e) => {
        const commandLine = e.execution.commandLine.value;
        if (/\bpython|\.py\b|mlflow/.test(commandLine)) this.running.set(e.execution, { commandLine, cwd: e.execution.cwd?.fsPath, startedAt: Date.now() });
      }),
      vscode.window.onDidEndTerminalShellExecution((e) => {
        const exec = this.running.get(e.execution);
        this.running.delete(e.execution);
        if (exec) void this.tagRuns(exec, e.exitCode).catch((err: Error) => this.log.debug(`tagging runs of '${exec.commandLine}' failed: ${err.message}`));
      }),
    );
  }

  private async tagRuns(exec: Execution, exitCode: number | undefined): Promise<void> {
    if (this.service.state.kind !== 'ready') return;
    const client = this.service.client;
    const experiments = await client.listExperiments();
    if (experiments.length === 0) return;
    const page = await client.searchRuns({
      experimentIds: experiments.map((e) => e.experiment_id),
      filter: `attributes.start_time >= ${exec.startedAt - SLACK_MS}`,
      maxResults: 1000,
    });
    for (const run of page.runs) {
      if (tagValue(run, 'runlens.launch.id') || tagValue(run, 'runlens.command')) continue;
      const source = tagValue(run, 'mlflow.source.name');
      if (source && !exec.commandLine.includes(path.basename(source))) continue;
      await client.setTags(run.info.run_id, {
        'runlens.command': exec.commandLine,
        ...(exec.cwd ? { 'runlens.command.cwd': exec.cwd } : {}),
        ...(exitCode !== undefined ? { 'runlens.command.exit_code': String(exitCode) } : {}),
      });
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
