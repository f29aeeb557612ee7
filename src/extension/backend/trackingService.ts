/**
 * The window's connection to the workspace store: starts or attaches the server, keeps the
 * terminal environment pointing at it, and turns the server's change feed into VS Code events.
 */
import * as net from 'node:net';
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import { ChangeStream, type ChangeEvent } from '../../client/changeStream';
import { TrackingClient } from '../../client/trackingClient';
import { readSettings, storeRoot } from '../config';
import { BackendStartError, startOrAttach, type Backend } from './startOrAttach';

export type ServiceState =
  | { kind: 'starting' }
  | { kind: 'stopped' }
  | { kind: 'noWorkspace' }
  | { kind: 'failed'; message: string; fix: string; recoverable?: boolean }
  | { kind: 'ready'; backend: Backend['kind']; url: string; root: string };

const PORT_KEY = 'runlens.port';

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
  private readonly stateEmitter = new vscode.EventEmitter<ServiceState>();
  private readonly changeEmitter = new vscode.EventEmitter<ChangeEvent>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidChange = this.changeEmitter.event;
  /** Milliseconds from start() to the server answering, for the activation report. */
  startupMs: number | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Logger,
  ) {}

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

  async start(opts: { recover?: boolean } = {}): Promise<void> {
    const root = storeRoot(readSettings());
    if (!root) {
      this.setState({ kind: 'noWorkspace' });
      return;
    }
    this.setState({ kind: 'starting' });
    const t0 = Date.now();
    try {
      const preferred = await this.preferredPort();
      const backend = await startOrAttach({ root, preferredPort: preferred, log: this.log, recover: opts.recover });
      this.backend = backend;
      if (backend.kind === 'embedded') {
        if (backend.portFallback && readSettings().port === 0) await this.context.workspaceState.update(PORT_KEY, backend.serving.server.port);
        if (backend.portFallback && readSettings().port > 0) {
          void vscode.window.showWarningMessage(
            `Runlens: port ${preferred} is in use, so the tracking server listens on ${backend.serving.server.port}. New terminals get the new address; set "runlens.server.port" to another port (or 0) to choose.`,
          );
        }
        this.log.info(`tracking server for ${root} listening on ${backend.url}${backend.portFallback ? ` (port ${preferred} was taken)` : ''}`);
      } else {
        this.log.info(`attached to ${backend.url}, which already serves ${root} (process ${backend.owner.pid})`);
      }
      this._client = new TrackingClient(backend.url);
      this.stream = new ChangeStream(backend.url, (e) => this.changeEmitter.fire(e), (s) => this.onFeedState(backend, s));
      this.startupMs = Date.now() - t0;
      this.setState({ kind: 'ready', backend: backend.kind, url: backend.url, root });
    } catch (err) {
      const e = err instanceof BackendStartError ? err : new BackendStartError((err as Error).message, 'See the Runlens output for details.');
      this.log.error(`${e.message} ${e.fix}`);
      this.setState({ kind: 'failed', message: e.message, fix: e.fix, ...(e.recoverable ? { recoverable: true } : {}) });
    }
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
        this.log.warn(`the server at ${backend.url} (process ${backend.owner.pid}) went away; serving the store from this window`);
        await this.restart();
      })();
    }, 500);
  }

  async stop(): Promise<void> {
    clearTimeout(this.takeoverTimer);
    await this.starting?.catch(() => undefined);
    this.stream?.close();
    this.stream = undefined;
    this._client = undefined;
    const b = this.backend;
    this.backend = undefined;
    if (b?.kind === 'embedded') {
      await b.serving.stop();
      this.log.info(`tracking server on ${b.url} stopped`);
    } else if (b) {
      this.log.info(`detached from ${b.url}`);
    }
    this.setState({ kind: 'stopped' });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.ready();
  }

  /** Restarts on a damaged store, opening it from what survives (see StoreDamagedError). */
  async recover(): Promise<void> {
    await this.stop();
    await (this.starting = this.start({ recover: true }).finally(() => (this.starting = undefined)));
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.changeEmitter.dispose();
  }
}
