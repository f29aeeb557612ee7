/** Lock + open store + listen: the one way a store gets served (CLI, tests, extension). */
import * as path from 'node:path';
import { LocalStore } from '../store/localStore';
import type { Logger } from '../domain/logger';
import { StoreLock } from '../store/storeLock';
import { startServer, type RunningServer } from './httpServer';

export interface ServeOptions {
  root: string;
  host?: string;
  port?: number;
  log: Logger;
  allowedHosts?: string[];
  /** Browser origins besides the server's own that may send requests (see ServerOptions). */
  allowedOrigins?: string[];
  checkpointBytes?: number;
  maxArtifactBytes?: number;
  /** Open a damaged store from what survives (the CLI's --recover; the extension's Recover action). */
  recover?: boolean;
}

export interface ServingStore {
  store: LocalStore;
  server: RunningServer;
  /** Stops accepting requests, flushes and checkpoints the store, releases the lock. */
  stop(): Promise<void>;
}

export async function serveStore(opts: ServeOptions): Promise<ServingStore> {
  const root = path.resolve(opts.root);
  const lock = StoreLock.acquire(root);
  let store: LocalStore | undefined;
  try {
    const truncate = (process.env.MLFLOW_TRUNCATE_LONG_VALUES ?? 'true').toLowerCase() !== 'false';
    store = await LocalStore.open({ root, log: opts.log, truncateLongValues: truncate, checkpointBytes: opts.checkpointBytes, maxArtifactBytes: opts.maxArtifactBytes, recover: opts.recover });
    for (const repair of store.recovery.repairs) opts.log.warn(repair);
    const server = await startServer({ store, log: opts.log, host: opts.host, port: opts.port, allowedHosts: opts.allowedHosts, allowedOrigins: opts.allowedOrigins });
    lock.setUrl(server.url);
    const opened = store;
    let stopping: Promise<void> | undefined;
    return {
      store: opened,
      server,
      stop: () =>
        (stopping ??= (async () => {
          await server.close();
          await opened.close();
          lock.release();
        })()),
    };
  } catch (err) {
    await store?.close().catch(() => undefined);
    lock.release();
    throw err;
  }
}
