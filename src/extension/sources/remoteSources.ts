/**
 * Team MLflow servers as explorer sources, read through the REST client with the server's
 * Authorization header. Nothing is fetched until a source is expanded; the first read checks the
 * credentials, so a refused sign-in shows once, with a way to re-enter them, instead of as an
 * error on every node.
 */
import * as vscode from 'vscode';
import { TrackingApiError, TrackingClient } from '../../client/trackingClient';
import { readRemoteServers } from '../config';
import { tlsFetch } from '../../client/tlsFetch';
import { authHeaders, secretKey, tlsOptionsOf, untrustedCertificateMessage, type RemoteServerConfig } from './remoteServerConfig';
import type { SourceHandle, StoreSources } from './storeSources';

export const REENTER_CREDENTIALS = 'runlens.reenterRemoteCredentials';

/** The server refused these credentials (or none were stored). */
export class RemoteAuthError extends Error {
  constructor(
    readonly server: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteAuthError';
  }
}

export class RemoteServerSource implements SourceHandle {
  readonly readOnly = true;
  readonly icon = 'cloud';
  readonly contextValue = 'runlens.source;remote';
  private _client: TrackingClient | undefined;
  private connecting: Promise<void> | undefined;
  /** The refusal already shown: the tree asks again on every refresh, the user is told once. */
  private shownRefusal: string | undefined;

  constructor(
    readonly config: RemoteServerConfig,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get key(): string {
    return `remote:${this.config.name}`;
  }

  get label(): string {
    return this.config.name;
  }

  get description(): string {
    return new URL(this.config.url).host;
  }

  get tooltip(): string {
    const auth = this.config.auth === 'basic' ? `basic auth as ${this.config.username ?? ''}` : this.config.auth === 'bearer' ? 'a bearer token' : 'no auth';
    return `MLflow server ${this.config.url} (${auth}); shown read-only. "Publish to…" on a workspace run copies it here.`;
  }

  get client(): TrackingClient {
    if (!this._client) throw new Error(`${this.config.name} is not connected yet.`);
    return this._client;
  }

  /** The stored password or token (undefined with no auth, or when none was stored). */
  secret(): Thenable<string | undefined> {
    return this.config.auth === 'none' ? Promise.resolve(undefined) : this.secrets.get(secretKey(this.config.name));
  }

  /** Drops the connection, so the next read signs in again (after the credentials changed). */
  forget(): void {
    this._client = undefined;
    this.shownRefusal = undefined;
  }

  ready(): Promise<void> {
    if (this._client) return Promise.resolve();
    return (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
  }

  private async connect(): Promise<void> {
    const { name, url } = this.config;
    const secret = await this.secret();
    const what = { basic: 'password', bearer: 'token', headers: 'header', none: '' }[this.config.auth];
    if (this.config.auth !== 'none' && secret === undefined) throw this.refused(`No ${what} is stored for ${name} in this VS Code.`);
    const client = new TrackingClient(url, authHeaders(this.config, secret), tlsFetch(tlsOptionsOf(this.config)));
    // A window-progress indicator on the explorer: a slow server never blocks the host, and shows it is working.
    await vscode.window.withProgress({ location: { viewId: 'runlens.experiments' }, title: `Connecting to ${name}` }, async () => {
      try {
        await client.getExperiment('0');
      } catch (err) {
        if (err instanceof TrackingApiError && (err.status === 401 || err.status === 403)) {
          throw this.refused(`${name} (${url}) refused the ${err.status === 401 ? 'credentials' : 'access'} (HTTP ${err.status}).`);
        }
        const untrusted = untrustedCertificateMessage(this.config, err);
        if (untrusted) throw new Error(untrusted);
        // The default experiment may be deleted there: any other answer from MLflow means signed in.
        if (!(err instanceof TrackingApiError) || err.status === 0 || !err.notFound) throw err;
      }
    });
    this.log.info(`connected to the MLflow server ${name} at ${url}`);
    this._client = client;
    this.shownRefusal = undefined;
  }

  private refused(message: string): RemoteAuthError {
    if (this.shownRefusal === message) return new RemoteAuthError(this.config.name, message);
    this.shownRefusal = message;
    this.log.warn(message);
    void vscode.window.showErrorMessage(`Runlens: ${message}`, 'Re-enter Credentials').then((c) => {
      if (c) void vscode.commands.executeCommand(REENTER_CREDENTIALS, this.config.name);
    });
    return new RemoteAuthError(this.config.name, message);
  }
}

/** Keeps the sources' team servers in step with the `runlens.remoteServers` setting. */
export class RemoteServers implements vscode.Disposable {
  private current = new Map<string, RemoteServerSource>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly sources: StoreSources,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('runlens.remoteServers')) this.sync();
    });
    this.sync();
  }

  list(): RemoteServerSource[] {
    return [...this.current.values()];
  }

  get(name: string): RemoteServerSource | undefined {
    return this.current.get(name);
  }

  /** Reads the setting again; a server whose entry did not change keeps its connection. */
  sync(): void {
    const { servers, skipped } = readRemoteServers();
    for (const s of skipped) this.log.warn(`runlens.remoteServers: skipped ${s}`);
    const next = new Map<string, RemoteServerSource>();
    for (const config of servers) {
      const old = this.current.get(config.name);
      next.set(config.name, old && JSON.stringify(old.config) === JSON.stringify(config) ? old : new RemoteServerSource(config, this.secrets, this.log));
    }
    this.current = next;
    this.sources.setRemotes(this.list());
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
