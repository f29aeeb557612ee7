/**
 * "Publish to…" on workspace runs and experiments: runs `runlens publish` (the CLI's own code, in
 * a child process so a long copy never blocks the extension host) against a configured team
 * server, with the server's credentials in the environment variables the CLI reads, a
 * cancellable progress notification fed by its progress lines, and the summary at the end.
 */
import { spawn } from 'node:child_process';
import { SAFE_EXIT_NODE_FLAG } from '../../domain/nodeExit';
import * as vscode from 'vscode';
import { guarded } from '../commands/guard';
import { readSettings, storeRoot } from '../config';
import { isExperimentNode, isRunNode, sourceOf, type ExplorerNode } from '../tree/nodes';
import { credentialEnv, parsePublishOutput, parsePublishProgress, tlsEnv, type PublishOutcome } from './remoteServerConfig';
import type { RemoteServers, RemoteServerSource } from './remoteSources';
import type { StoreSources } from './storeSources';

/** What a publish was asked for: `--run` and `--experiment` arguments. */
function selectionArgs(arg: unknown, selection: unknown): { argv: string[]; what: string } | undefined {
  const nodes = (Array.isArray(selection) && selection.length ? selection : [arg]).filter((n): n is ExplorerNode => isRunNode(n) || isExperimentNode(n));
  // Only the workspace's own runs: a found store or a team server is not ours to publish.
  const own = nodes.filter((n) => sourceOf(n) === undefined);
  const runs = own.filter(isRunNode).map((n) => n.run.info.run_id);
  const experiments = own.filter(isExperimentNode).map((n) => n.experiment.name);
  if (!runs.length && !experiments.length) return undefined;
  const argv = [...runs.flatMap((r) => ['--run', r]), ...experiments.flatMap((e) => ['--experiment', e])];
  const parts = [runs.length ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : '', experiments.length ? `experiment${experiments.length === 1 ? '' : 's'} ${experiments.map((e) => `'${e}'`).join(', ')}` : ''];
  return { argv, what: parts.filter(Boolean).join(' and ') };
}

/** Runs the CLI; resolves with its parsed summary, rejects with its error line. */
async function runPublish(cliPath: string, root: string, server: RemoteServerSource, argv: string[], token: vscode.CancellationToken, onProgress: (done: number, total: number) => void): Promise<PublishOutcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
  // The server's own credentials and TLS trust only: none inherited from the window's environment
  // (an MLFLOW_TRACKING_INSECURE_TLS set for some test server must not switch this one's check off).
  for (const k of ['MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_INSECURE_TLS', 'MLFLOW_TRACKING_SERVER_CERT_PATH', 'RUNLENS_TRACKING_HEADERS']) delete env[k];
  Object.assign(env, credentialEnv(server.config, await server.secret()), tlsEnv(server.config));
  const child = spawn(process.execPath, [SAFE_EXIT_NODE_FLAG, cliPath, 'publish', '--root', root, '--to', server.config.url, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const cancel = token.onCancellationRequested(() => child.kill('SIGTERM'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const line of d.split('\n')) {
      const p = parsePublishProgress(line);
      if (p) onProgress(p.done, p.total);
    }
  });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    if (token.isCancellationRequested) throw new Error('Publish cancelled; publishing again resumes where it stopped.');
    const outcome = code === 0 ? parsePublishOutput(stdout) : undefined;
    if (!outcome) {
      const why = stderr.split('\n').reverse().find((l) => l.startsWith('runlens publish: ')) ?? stderr.trim().split('\n').pop() ?? `exit code ${String(code)}`;
      throw new Error(why.replace(/^runlens publish: /, ''));
    }
    return outcome;
  } finally {
    cancel.dispose();
  }
}

export function registerPublishCommand(context: vscode.ExtensionContext, remotes: RemoteServers, sources: StoreSources, log: vscode.LogOutputChannel): void {
  const cliPath = context.asAbsolutePath('dist/cli.js');
  const publishTo = async (arg?: unknown, selection?: unknown, serverName?: unknown): Promise<PublishOutcome | undefined> => {
    const chosen = selectionArgs(arg, selection);
    if (!chosen) throw new Error('Pick workspace runs or experiments to publish.');
    const list = remotes.list();
    if (list.length === 0) {
      const add = await vscode.window.showInformationMessage('Runlens: no MLflow server is set up yet.', 'Add MLflow Server…');
      if (add) void vscode.commands.executeCommand('runlens.addRemoteServer');
      return undefined;
    }
    const name = typeof serverName === 'string' ? serverName : list.length === 1 ? list[0]!.config.name : (await vscode.window.showQuickPick(list.map((s) => ({ label: s.config.name, description: s.config.url })), { title: `Publish ${chosen.what} to…` }))?.label;
    if (!name) return undefined;
    const server = remotes.get(name);
    if (!server) throw new Error(`No MLflow server is named '${name}'.`);
    const root = storeRoot(readSettings())?.root;
    if (!root) throw new Error('Open a folder first: the workspace store lives in it.');
    log.info(`publishing ${chosen.what} to ${name} (${server.config.url})`);
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Runlens: publishing ${chosen.what} to ${name}`, cancellable: true },
      (progress, token) => {
        let last = 0;
        return runPublish(cliPath, root, server, chosen.argv, token, (done, total) => {
          progress.report({ message: `${done}/${total} runs`, increment: total ? ((done - last) / total) * 100 : 0 });
          last = done;
        });
      },
    );
    log.info(`publish to ${name}: ${outcome.summary}; ${outcome.unchanged} unchanged`);
    for (const c of outcome.conflicts) log.warn(`publish to ${name}: conflict: ${c}`);
    const conflicts = outcome.conflicts.length;
    void vscode.window
      .showInformationMessage(`Runlens: published to ${name}: ${outcome.created} new, ${outcome.updated} updated, ${outcome.unchanged} unchanged${conflicts ? `, ${conflicts} conflict${conflicts === 1 ? '' : 's'} (see Output)` : ''}.`, ...(conflicts ? ['Show Output'] : []))
      .then((c) => c && log.show());
    // The team server's tree, if open, shows the new runs.
    sources.reload(server.key);
    return outcome;
  };
  context.subscriptions.push(vscode.commands.registerCommand('runlens.publishTo', guarded(log, 'Publish', publishTo)));
}
