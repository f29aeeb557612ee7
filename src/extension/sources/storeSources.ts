/**
 * MLflow stores found in the workspace (an `mlflow.db`, a legacy `mlruns/`, the store `.env`
 * names, the `runlens.mlflowStores` setting), each served read-only by its own server process
 * (`runlens serve --root <store>`), forked lazily the first time its source is expanded and
 * stopped with the window. Re-discovered when such files appear or disappear.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LogLevel } from '../../serverIpc/protocol';
import { TrackingClient } from '../../client/trackingClient';
import { forkServer, type ServerProcess } from '../backend/serverProcess';
import { readSettings, storeRoot, workspaceRoot } from '../config';
import { detectMlflowStore, discoverStores, type FoundStore } from './localStores';

/** What the explorer reads a source through. */
export interface StoreHandle {
  readonly key: string;
  readonly readOnly: boolean;
  /** Resolves once the source's server answers (starting it if needed); rejects with why not. */
  ready(): Promise<void>;
  /** Valid after ready(). */
  readonly client: TrackingClient;
}

/** A source shown at the explorer's root beside the workspace store: a found store or a team server. */
export interface SourceHandle extends StoreHandle {
  readonly label: string;
  readonly description: string;
  readonly icon: string;
  readonly tooltip: string;
  /** The source node's context value (`runlens.source;<kind>`), which its menus match. */
  readonly contextValue: string;
}

/** One found store and the read-only server process that serves it while this window needs it. */
export class FoundStoreSource implements SourceHandle {
  readonly readOnly = true;
  private server: ServerProcess | undefined;
  private starting: Promise<void> | undefined;
  private _client: TrackingClient | undefined;
  private disposed = false;

  constructor(
    readonly store: FoundStore,
    private readonly cliPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly level: () => LogLevel,
  ) {}

  get key(): string {
    return this.store.path;
  }

  get label(): string {
    return path.basename(this.store.path);
  }

  readonly description = 'read-only';
  readonly contextValue = 'runlens.source;mlflow';

  get icon(): string {
    return this.store.kind === 'mlruns' ? 'folder-library' : 'lock';
  }

  get tooltip(): string {
    return foundStoreTooltip(this.store);
  }

  get client(): TrackingClient {
    if (!this._client) throw new Error(`The read-only server for ${this.store.path} is not running.`);
    return this._client;
  }

  get running(): boolean {
    return this._client !== undefined;
  }

  ready(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error(`${this.store.path} is no longer shown.`));
    if (this._client) return Promise.resolve();
    return (this.starting ??= this.start().finally(() => (this.starting = undefined)));
  }

  private async start(): Promise<void> {
    const server = await forkServer({ cliPath: this.cliPath, root: this.store.path, port: 0, level: this.level(), log: this.log });
    if (this.disposed) {
      await server.stop();
      return;
    }
    this.server = server;
    this._client = new TrackingClient(server.url);
    this.log.info(`read-only server for ${this.store.path} listening on ${server.url} in process ${server.pid}`);
    // Supervision: a crashed reader is started again the next time the tree reads from it.
    void server.exited.then((exit) => {
      if (this.server !== server || server.stopping) return;
      this.log.warn(`the read-only server for ${this.store.path} (process ${server.pid}) ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}; it restarts when next read`);
      this.server = undefined;
      this._client = undefined;
    });
  }

  /** The pid of its server process, when it runs (tests check none is left behind). */
  get pid(): number | undefined {
    return this.server?.pid;
  }

  async stop(): Promise<void> {
    this.disposed = true;
    await this.starting?.catch(() => undefined);
    const s = this.server;
    this.server = undefined;
    this._client = undefined;
    if (s) {
      await s.stop();
      this.log.info(`read-only server for ${this.store.path} (process ${s.pid}) stopped`);
    }
  }
}

function describeVia(store: FoundStore): string {
  if (store.via === '.env') return 'named by MLFLOW_TRACKING_URI in .env';
  if (store.via === 'setting') return 'listed in the "runlens.mlflowStores" setting';
  return 'found in the workspace folder';
}

/** Tooltip text: where the store is and how it was found. */
export function foundStoreTooltip(store: FoundStore): string {
  return `${store.kind === 'mlflow.db' ? 'MLflow database' : 'MLflow file store'} ${store.path}\n${describeVia(store)}; shown read-only. "Import into Runlens" copies its runs into the workspace store.`;
}

export class StoreSources implements vscode.Disposable {
  private readonly sources = new Map<string, FoundStoreSource>();
  /** Team MLflow servers (remoteSources.ts keeps them in step with the setting). */
  private remotes: SourceHandle[] = [];
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires when the set of found stores changed. */
  readonly onDidChange = this.emitter.event;
  private readonly contentEmitter = new vscode.EventEmitter<string>();
  /** Fires with a store's key when its files changed (MLflow wrote to it): its tree re-reads. */
  readonly onDidChangeContent = this.contentEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cliPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly level: () => LogLevel,
  ) {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder) {
      for (const glob of ['mlflow.db', 'mlruns/*/meta.yaml', '.env']) {
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
        const again = (): void => this.scheduleDiscover();
        const changed = (uri: vscode.Uri): void => {
          for (const key of this.sources.keys()) if (uri.fsPath === key || uri.fsPath.startsWith(key + path.sep)) this.contentEmitter.fire(key);
          if (path.basename(uri.fsPath) === '.env') this.scheduleDiscover();
        };
        this.disposables.push(watcher, watcher.onDidCreate(again), watcher.onDidDelete(again), watcher.onDidChange(changed));
      }
    }
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('runlens.mlflowStores') || e.affectsConfiguration('runlens.storePath')) this.scheduleDiscover();
      }),
    );
  }

  /** The found stores, in discovery order (setting, .env, workspace). */
  found(): FoundStoreSource[] {
    return [...this.sources.values()];
  }

  /** Every source besides the workspace store: the found stores, then the team servers. */
  list(): SourceHandle[] {
    return [...this.sources.values(), ...this.remotes];
  }

  get(key: string): SourceHandle | undefined {
    return this.sources.get(key) ?? this.remotes.find((r) => r.key === key);
  }

  getFound(key: string): FoundStoreSource | undefined {
    return this.sources.get(key);
  }

  setRemotes(remotes: SourceHandle[]): void {
    this.remotes = remotes;
    this.emitter.fire();
  }

  /** Makes the source's tree read it again (after its credentials changed). */
  reload(key: string): void {
    this.contentEmitter.fire(key);
  }

  private scheduleDiscover(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.discover(), 300);
  }

  /** Looks again; starts nothing (servers start when a source is first read). */
  async discover(): Promise<void> {
    const ws = workspaceRoot();
    const settings = readSettings();
    const own = storeRoot(settings)?.root;
    const found = ws ? discoverStores(ws, detectMlflowStore, settings.mlflowStores).stores.filter((s) => s.path !== own) : [];
    const keys = new Set(found.map((s) => s.path));
    let changed = false;
    for (const [key, source] of this.sources) {
      if (keys.has(key)) continue;
      this.sources.delete(key);
      changed = true;
      await source.stop();
    }
    for (const store of found) {
      if (this.sources.has(store.path)) continue;
      this.sources.set(store.path, new FoundStoreSource(store, this.cliPath, this.log, this.level));
      this.log.info(`found an MLflow store: ${store.path} (${store.kind}, ${describeVia(store)}); shown read-only`);
      changed = true;
    }
    if (changed) this.emitter.fire();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all(this.found().map((s) => s.stop()));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    void this.stop();
    this.emitter.dispose();
    this.contentEmitter.dispose();
  }
}
