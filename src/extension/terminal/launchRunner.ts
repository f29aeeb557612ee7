/**
 * "Run Python File with Tracking": runs a file in a terminal the extension owns (a pseudoterminal
 * around a child process), through a launch-scoped tracking URI. Runs the process creates carry
 * the command line, working directory and launch id; when it ends, the exit code is tagged, the
 * terminal output is logged as an artifact, and runs it left RUNNING are closed as FINISHED,
 * FAILED (non-zero exit) or KILLED (signal, or the terminal was closed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import type { TrackingService } from '../backend/trackingService';
import type { TrackingClient } from '../../client/trackingClient';
import type { WireRun, WireRunStatus } from '../../client/wireTypes';
import { readSettings, workspaceRoot } from '../config';
import { uploadArtifact } from '../../client/artifactUpload';
import { guarded } from '../commands/guard';
import { OutputCapture } from './outputCapture';
import { checkMlflow, describeSource, shellQuote as quote, type Interpreter } from './interpreterChoice';
import { chooseInterpreter, offerMlflowInstall, type LaunchNotice } from './pythonInterpreter';

export const OUTPUT_ARTIFACT = 'runlens/terminal-output.log';

export interface LaunchResult {
  launchId: string;
  exitCode: number | null;
  signal: string | null;
  runIds: string[];
  closedRuns: { runId: string; status: WireRunStatus }[];
}

/** Closes what a finished process left behind: status, exit code tag, output artifact. */
export async function finishLaunch(client: TrackingClient, launchId: string, exitCode: number | null, signal: string | null, output: string, log: Logger): Promise<Omit<LaunchResult, 'launchId' | 'exitCode' | 'signal'>> {
  const experiments = await client.listExperiments('ALL');
  const runs: WireRun[] = [];
  let token: string | undefined;
  do {
    const page = await client.searchRuns({ experimentIds: experiments.map((e) => e.experiment_id), filter: `tags.\`runlens.launch.id\` = '${launchId}'`, maxResults: 1000, pageToken: token, viewType: 'ALL' });
    runs.push(...page.runs);
    token = page.nextPageToken;
  } while (token);
  const closedRuns: { runId: string; status: WireRunStatus }[] = [];
  const tmp = path.join(os.tmpdir(), `runlens-launch-${launchId}.log`);
  fs.writeFileSync(tmp, output);
  try {
    for (const run of runs) {
      const id = run.info.run_id;
      await client.setTag(id, 'runlens.launch.exit_code', exitCode === null ? `signal ${signal ?? 'unknown'}` : String(exitCode));
      try {
        await uploadArtifact(client.baseUrl, run.info.artifact_uri ?? '', OUTPUT_ARTIFACT, tmp);
      } catch (err) {
        log.warn(`could not attach the terminal output to run ${id}: ${(err as Error).message}`);
      }
      if (run.info.status === 'RUNNING' || run.info.status === 'SCHEDULED') {
        const status: WireRunStatus = exitCode === 0 ? 'FINISHED' : exitCode === null ? 'KILLED' : 'FAILED';
        await client.updateRun(id, { status, endTime: Date.now() });
        closedRuns.push({ runId: id, status });
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return { runIds: runs.map((r) => r.info.run_id), closedRuns };
}

/** What the command returns: a launch id, or why nothing was launched. */
export interface LaunchOutcome {
  launchId?: string;
  interpreter: Interpreter;
  /** Set when nothing ran: the interpreter lacks mlflow, or does not start. */
  refused?: 'mlflowMissing' | 'noInterpreter';
}

export class LaunchRunner {
  private readonly results = new Map<string, Promise<LaunchResult>>();
  private readonly finishedEmitter = new vscode.EventEmitter<LaunchResult>();
  readonly onDidFinish = this.finishedEmitter.event;
  private readonly noticeEmitter = new vscode.EventEmitter<LaunchNotice>();
  /** Fires with each warning a launch shows (before it is shown), so tests can read it. */
  readonly onDidNotice = this.noticeEmitter.event;

  constructor(
    private readonly service: TrackingService,
    private readonly log: Logger,
  ) {}

  /** The result of a launch started by this window (tests and notifications wait on it). */
  result(launchId: string): Promise<LaunchResult> | undefined {
    return this.results.get(launchId);
  }

  register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(
      this.finishedEmitter,
      this.noticeEmitter,
      vscode.commands.registerCommand(
        'runlens.runPythonFile',
        guarded(this.log, 'Run Python File with Tracking', async (arg?: unknown, extraArgs?: unknown) => {
          let file = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
          if (!file || file.scheme !== 'file') throw new Error('Open or select a Python file on disk first.');
          const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file!.toString());
          if (open?.isDirty) await open.save();
          const args = Array.isArray(extraArgs) ? extraArgs.map(String) : [];
          return this.launchChecked(file, args);
        }),
      ),
    );
  }

  /**
   * Picks the interpreter and checks it has mlflow before anything runs: a launch that can only
   * die with ModuleNotFoundError is replaced by a notice that says which interpreter and offers
   * the install (not awaited: the command returns while the notice is up).
   */
  async launchChecked(file: vscode.Uri, args: string[]): Promise<LaunchOutcome> {
    const root = workspaceRoot();
    const interpreter = await chooseInterpreter(file, readSettings().pythonPath, root);
    const cwd = this.cwdFor(file.fsPath, root);
    const check = await checkMlflow(interpreter, cwd);
    this.log.info(`launch interpreter: ${interpreter.command} (${describeSource(interpreter)}): mlflow ${check.kind}`);
    if (check.kind === 'missing') {
      void offerMlflowInstall(interpreter, cwd, (n) => this.noticeEmitter.fire(n));
      return { interpreter, refused: 'mlflowMissing' };
    }
    if (check.kind === 'noInterpreter') {
      const message = `Runlens: could not start ${interpreter.command} (chosen from ${describeSource(interpreter)}): ${check.error}. Select an interpreter in the Python extension or set "runlens.python.path".`;
      this.noticeEmitter.fire({ message, actions: ['Open Settings'], interpreter });
      void vscode.window.showErrorMessage(message, 'Open Settings').then((c) => c && vscode.commands.executeCommand('workbench.action.openSettings', 'runlens.python.path'));
      return { interpreter, refused: 'noInterpreter' };
    }
    // 'unknown': the probe itself failed oddly; the launch shows the real error in its terminal.
    return { interpreter, launchId: await this.launch(file.fsPath, args, interpreter) };
  }

  private cwdFor(file: string, root: string | undefined): string {
    return root && file.startsWith(root + path.sep) ? root : path.dirname(file);
  }

  async launch(file: string, args: string[], interpreter: Interpreter): Promise<string> {
    await this.service.ready();
    const client = this.service.client;
    const root = workspaceRoot();
    const settings = readSettings();
    const python = interpreter.command;
    const cwd = this.cwdFor(file, root);
    const argv = [...interpreter.prefixArgs, file, ...args];
    const commandLine = [python, ...argv].map(quote).join(' ');
    const launchId = await client.registerLaunch([
      { key: 'runlens.launch.command', value: commandLine },
      { key: 'runlens.launch.cwd', value: cwd },
    ]);
    const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: client.launchUri(launchId), PYTHONUNBUFFERED: '1' };
    if (settings.defaultExperiment && !env.MLFLOW_EXPERIMENT_NAME && !env.MLFLOW_EXPERIMENT_ID) env.MLFLOW_EXPERIMENT_NAME = settings.defaultExperiment;

    const writeEmitter = new vscode.EventEmitter<string>();
    const closeEmitter = new vscode.EventEmitter<number | void>();
    const capture = new OutputCapture();
    let child: ChildProcess | undefined;
    let closedByUser = false;
    let resolveResult!: (r: LaunchResult) => void;
    this.results.set(launchId, new Promise((r) => (resolveResult = r)));
    const write = (text: string): void => writeEmitter.fire(text.replace(/\r?\n/g, '\r\n'));

    const pty: vscode.Pseudoterminal = {
      onDidWrite: writeEmitter.event,
      onDidClose: closeEmitter.event,
      open: () => {
        write(`\x1b[2m$ ${commandLine}\n(tracking to ${client.baseUrl}, launch ${launchId})\x1b[0m\n`);
        child = spawn(python, argv, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
        const onData = (chunk: Buffer): void => {
          const text = chunk.toString('utf8');
          capture.append(text);
          write(text);
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.on('error', (err) => {
          const msg = `Could not start ${python}: ${err.message}. Set "runlens.python.path" to your interpreter.\n`;
          capture.append(msg);
          write(`\x1b[31m${msg}\x1b[0m`);
        });
        child.on('close', (code, signal) => {
          const exitCode = closedByUser ? null : code;
          const sig = closedByUser ? (signal ?? 'SIGTERM') : signal;
          write(`\n\x1b[2m[process exited with ${exitCode === null ? `signal ${sig}` : `code ${exitCode}`}]\x1b[0m\n`);
          void this.complete(launchId, exitCode, sig, capture.text(), file).then(resolveResult);
        });
      },
      close: () => {
        if (child && child.exitCode === null && child.signalCode === null) {
          closedByUser = true;
          child.kill('SIGTERM');
        }
      },
      handleInput: (data) => {
        if (!child?.stdin?.writable) return;
        if (data === '\x03') {
          child.kill('SIGINT');
          return;
        }
        const text = data.replace(/\r/g, '\n');
        child.stdin.write(text);
        write(text); // the pipe does not echo
      },
    };
    const terminal = vscode.window.createTerminal({ name: `Runlens: ${path.basename(file)}`, pty, iconPath: new vscode.ThemeIcon('beaker') });
    terminal.show(true);
    return launchId;
  }

  private async complete(launchId: string, exitCode: number | null, signal: string | null, output: string, file: string): Promise<LaunchResult> {
    let result: LaunchResult = { launchId, exitCode, signal, runIds: [], closedRuns: [] };
    try {
      result = { launchId, exitCode, signal, ...(await finishLaunch(this.service.client, launchId, exitCode, signal, output, this.log)) };
      this.log.info(`${path.basename(file)} exited with ${exitCode ?? signal}: ${result.runIds.length} run(s), closed ${result.closedRuns.map((c) => `${c.runId}→${c.status}`).join(', ') || 'none'}`);
    } catch (err) {
      this.log.error(`finishing launch ${launchId} failed: ${(err as Error).message}`);
    }
    this.finishedEmitter.fire(result);
    if (exitCode !== 0 && result.runIds.length > 0) {
      void vscode.window.showWarningMessage(`Runlens: ${path.basename(file)} exited with ${exitCode === null ? `signal ${signal}` : `code ${exitCode}`}; ${result.closedRuns.length} run(s) marked ${result.closedRuns[0]?.status ?? 'as they were'}, output attached.`, 'Open Run').then((c) => {
        if (c) void vscode.commands.executeCommand('runlens.openRun', result.runIds[0]);
      });
    }
    return result;
  }
}
