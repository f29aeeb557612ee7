/**
 * The window's connection to the workspace store: starts (a supervised server process) or
 * attaches the server, keeps the terminal environment pointing at it, and turns the server's
 * change feed into VS Code events.
 */
import * as net from 'node:net';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LogLevel } from '../../serverIpc/protocol';
import { processAlive, readLockOwner } from '../../store/storeLock';
import { ChangeStream, type ChangeEvent } from '../../client/changeStream';
import { TrackingClient } from '../../client/trackingClient';
import { readSettings, storeRoot } from '../config';
import { RestartPolicy } from './restartPolicy';
import type { ServerExit } from './serverProcess';
import { BackendStartError, startOrAttach, type Backend } from './startOrAttach';

export type ServiceState =
  | { kind: 'starting' }
  | { kind: 'stopped' }
  | { kind: 'noWorkspace' }
  /** `recoverable`: "Recover Store" can open it; `crashed`: the server kept crashing and was given up. */
  | { kind: 'failed'; message: string; fix: string; recoverable?: boolean; crashed?: boolean }
  /** `pid`: the process serving the store (this window's server process, or the owner it attached to). */
  | { kind: 'ready'; backend: Backend['kind']; url: string; root: string; pid: number };

/** The server's level for the output channel's (Trace and Debug both mean every request). */
export function serverLevel(level: vscode.LogLevel): LogLevel {
  if (level === vscode.LogLevel.Trace || level === vscode.LogLevel.Debug) return 'debug';
  if (level === vscode.LogLevel.Info) return 'info';
  if (level === vscode.LogLevel.Warning) return 'warn';
  return 'error';
}

/** Whether process `pid` still holds the store's lock (it may be flushing on its way out). */
function lockHeld(root: string, pid: number): boolean {
  const owner = readLockOwner(root);
  return owner?.pid === pid && owner.hostname === os.hostname() && processAlive(pid);
}

function describeExit(e: ServerExit): string {
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

const PORT_KEY = 'runlens.port';
const DISPLACED_KEY = 'runlens.displacedNoticeShown';

/** A free loopback port, to pick once per workspace. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class TrackingService implements vscode.Disposable {
  private backend: Backend | undefined;
  private stream: ChangeStream | undefined;
  private starting: Promise<void> | undefined;
  private _state: ServiceState = { kind: 'stopped' };
  private _client: TrackingClient | undefined;
  private takeoverTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly restarts = new RestartPolicy();
  private readonly stateEmitter = new vscode.EventEmitter<ServiceState>();
  private readonly changeEmitter = new vscode.EventEmitter<ChangeEvent>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidChange = this.changeEmitter.event;
  /** Milliseconds from start() to the server answering, for the activation report. */
  startupMs: number | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    context.subscriptions.push(
      log.onDidChangeLogLevel((level) => {
        if (this.backend?.kind === 'embedded') this.backend.process.setLogLevel(serverLevel(level));
      }),
    );
  }

  get state(): ServiceState {
    return this._state;
  }

  /** The client for the current server; throws a user-facing message when there is none. */
  get client(): TrackingClient {
    if (!this._client) {
      const s = this._state;
      throw new Error(
        s.kind === 'failed' ? `${s.message} ${s.fix}` : s.kind === 'noWorkspace' ? 'Open a folder to use Runlens: the store lives in the workspace.' : 'The tracking server is not running. Run "Runlens: Start Tracking Server".',
      );
    }
    return this._client;
  }

  get url(): string | undefined {
    return this._client?.baseUrl;
  }

  /** Resolves once the server is ready (or failed); starts it when needed. */
  ready(): Promise<void> {
    if (this._state.kind === 'ready') return Promise.resolve();
    return (this.starting ??= this.start().finally(() => (this.starting = undefined)));
  }

  private setState(s: ServiceState): void {
    this._state = s;
    this.stateEmitter.fire(s);
  }

  /** The port for this workspace: the setting, else the one picked the first time and kept. */
  private async preferredPort(): Promise<number> {
    const configured = readSettings().port;
    if (configured > 0) return configured;
    const saved = this.context.workspaceState.get<number>(PORT_KEY);
    if (saved) return saved;
    const picked = await freePort();
    await this.context.workspaceState.update(PORT_KEY, picked);
    return picked;
  }

  /** `port`: after a crash, the port the server had, so open terminals keep their address. */
  async start(opts: { recover?: boolean; port?: number } = {}): Promise<void> {
    const choice = storeRoot(readSettings());
    if (!choice) {
      this.setState({ kind: 'noWorkspace' });
      return;
    }
    const root = choice.root;
    if (choice.displaced) this.explainDisplaced(choice.displaced, root);
    // A restart after a crash is already 'starting': one transition, not two.
    if (this._state.kind !== 'starting') this.setState({ kind: 'starting' });
    const t0 = Date.now();
    try {
      const preferred = opts.port ?? (await this.preferredPort());
      const cliPath = this.context.asAbsolutePath('dist/cli.js');
      const backend = await startOrAttach({ root, preferredPort: preferred, log: this.log, cliPath, level: serverLevel(this.log.logLevel), recover: opts.recover, governanceFile: workspaceGovernanceFile() });
      this.backend = backend;
      if (backend.kind === 'embedded') {
        const port = backend.process.port;
        if (backend.portFallback && readSettings().port === 0) await this.context.workspaceState.update(PORT_KEY, port);
        if (backend.portFallback && readSettings().port > 0) {
          void vscode.window.showWarningMessage(
            `Runlens: port ${preferred} is in use, so the tracking server listens on ${port}. New terminals get the new address; set "runlens.server.port" to another port (or 0) to choose.`,
          );
        }
        this.log.info(`tracking server for ${root} listening on ${backend.url} in process ${backend.process.pid}${backend.portFallback ? ` (port ${preferred} was taken)` : ''}`);
        const startedAt = Date.now();
        void backend.process.exited.then((exit) => this.onServerExit(backend, exit, Date.now() - startedAt));
      } else {
        this.log.info(`attached to ${backend.url}, which already serves ${root} (process ${backend.owner.pid})`);
      }
      this._client = new TrackingClient(backend.url);
      this.stream = new ChangeStream(backend.url, (e) => this.changeEmitter.fire(e), (s) => this.onFeedState(backend, s));
      this.startupMs = Date.now() - t0;
      const pid = backend.kind === 'embedded' ? backend.process.pid : backend.owner.pid;
      this.setState({ kind: 'ready', backend: backend.kind, url: backend.url, root, pid });
    } catch (err) {
      const e = err instanceof BackendStartError ? err : new BackendStartError((err as Error).message, 'See the Runlens output for details.');
      this.log.error(`${e.message} ${e.fix}`);
      this.setState({ kind: 'failed', message: e.message, fix: e.fix, ...(e.recoverable ? { recoverable: true } : {}) });
    }
  }

  /** Once per workspace: why the store is not in `mlruns/`, and that MLflow's store there is shown read-only. */
  private explainDisplaced(mlruns: string, root: string): void {
    this.log.info(`${mlruns} is an MLflow file store, not Runlens's: Runlens keeps its store in ${root} and shows ${mlruns} read-only`);
    if (this.context.workspaceState.get<boolean>(DISPLACED_KEY)) return;
    void this.context.workspaceState.update(DISPLACED_KEY, true);
    void vscode.window.showInformationMessage(
      `Runlens: this folder's mlruns/ is an MLflow store, so Runlens keeps its own store in ${path.basename(root)}/ and never writes into mlruns/. The MLflow store is shown read-only in the Experiments view; use "Import into Runlens" to copy its runs.`,
    );
  }

  /**
   * Supervision: a server process that exits without being asked to is restarted on the same
   * port (terminals keep working), with growing pauses; one that keeps dying right after it
   * starts is given up with a message, so a crash loop cannot spin forever.
   */
  private onServerExit(backend: Backend, exit: ServerExit, uptimeMs: number): void {
    if (backend.kind !== 'embedded' || this.backend !== backend || backend.process.stopping) return;
    // What it printed on stderr is in the channel already, line by line.
    this.log.error(`the tracking server (process ${backend.process.pid}) ${describeExit(exit)} after ${(uptimeMs / 1000).toFixed(1)} s`);
    this.stream?.close();
    this.stream = undefined;
    this._client = undefined;
    this.backend = undefined;
    const decision = this.restarts.onCrash(uptimeMs);
    if (!decision.restart) {
      this.setState({
        kind: 'failed',
        message: `The tracking server crashed ${decision.crashes} times in a row shortly after starting (last: it ${describeExit(exit)}).`,
        fix: 'The Runlens output has what it printed. Fix the cause (a full disk, a damaged store: run `runlens doctor`), then run "Runlens: Restart Tracking Server".',
        crashed: true,
      });
      return;
    }
    this.log.warn(`restarting the tracking server in ${decision.delayMs} ms (attempt ${decision.attempt})`);
    this.setState({ kind: 'starting' });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this._state.kind !== 'starting' || this.backend || this.starting) return;
      void (this.starting = this.start({ port: backend.process.port }).finally(() => (this.starting = undefined)));
    }, decision.delayMs);
  }

  /**
   * When this window attached to another owner and the owner goes away (its window closed,
   * `runlens serve` stopped), the feed drops: take the store over so tracking keeps working.
   */
  private onFeedState(backend: Backend, state: string): void {
    this.log.debug(`change feed: ${state}`);
    if (backend.kind !== 'attached' || state !== 'connecting' || this.backend !== backend) return;
    clearTimeout(this.takeoverTimer);
    this.takeoverTimer = setTimeout(() => {
      void (async () => {
        if (this.backend !== backend || (await new TrackingClient(backend.url).health(1000))) return;
        // An owner that stopped answering may still be writing its last snapshot: opening the
        // store before it lets go of the lock would fail as "locked".
        const deadline = Date.now() + 15_000;
        while (lockHeld(backend.root, backend.owner.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        if (this.backend !== backend) return;
        this.log.warn(`the server at ${backend.url} (process ${backend.owner.pid}) went away; serving the store from this window`);
        await this.restart();
      })();
    }, 500);
  }

  async stop(): Promise<void> {
    clearTimeout(this.takeoverTimer);
    clearTimeout(this.restartTimer);
    await this.starting?.catch(() => undefined);
    this.stream?.close();
    this.stream = undefined;
    this._client = undefined;
    const b = this.backend;
    this.backend = undefined;
    if (b?.kind === 'embedded') {
      await b.process.stop();
      this.log.info(`tracking server on ${b.url} (process ${b.process.pid}) stopped`);
    } else if (b) {
      this.log.info(`detached from ${b.url}`);
    }
    this.setState({ kind: 'stopped' });
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restarts.reset();
    await this.ready();
  }

  /** Restarts on a damaged store, opening it from what survives (see StoreDamagedError). */
  async recover(): Promise<void> {
    await this.stop();
    this.restarts.reset();
    await (this.starting = this.start({ recover: true }).finally(() => (this.starting = undefined)));
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.changeEmitter.dispose();
  }
}

/** `.runlens/governance.yaml` of the first workspace folder, if present: the server enforces it. */
function workspaceGovernanceFile(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder || folder.scheme !== 'file') return undefined;
  const file = path.join(folder.fsPath, '.runlens', 'governance.yaml');
  return fs.existsSync(file) ? file : undefined;
}
