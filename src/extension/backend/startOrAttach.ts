/**
 * Serves the workspace store from a server process this window forks, or attaches to whoever
 * already serves it (another window, `runlens serve`): the store's lock file names the owner and
 * its URL. Port policy: try the preferred port (stable per workspace), fall back to a free one
 * when it is taken.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../domain/logger';
import { readLockOwner, type LockOwner } from '../../store/storeLock';
import type { LogLevel } from '../../serverIpc/protocol';
import { TrackingClient } from '../../client/trackingClient';
import { forkServer, ServerStartFailure, type ServerProcess } from './serverProcess';

export type Backend =
  | { kind: 'embedded'; url: string; root: string; process: ServerProcess; portFallback: boolean }
  | { kind: 'attached'; url: string; root: string; owner: LockOwner };

export interface StartOptions {
  root: string;
  preferredPort: number;
  log: Logger;
  /** The bundled CLI that runs the server (dist/cli.js of the extension). */
  cliPath: string;
  /** The server's log level; lines below it are not even sent to this process. */
  level?: LogLevel;
  maxArtifactBytes?: number;
  recover?: boolean;
  governanceFile?: string | undefined;
}

/** A failure the user can act on: what went wrong and how to fix it. */
export class BackendStartError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    /** The store is damaged and can be opened from what survives ("Recover Store"). */
    readonly recoverable = false,
  ) {
    super(message);
    this.name = 'BackendStartError';
  }
}

async function attachable(owner: LockOwner | undefined): Promise<string | undefined> {
  if (!owner?.url) return undefined;
  return (await new TrackingClient(owner.url).health()) ? owner.url : undefined;
}

/** The folder a store will be created in, if it does not exist yet: the nearest existing ancestor. */
function nearestExisting(dir: string): string {
  let cur = dir;
  while (!fs.existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

function checkWritable(root: string): void {
  // Checked without creating anything: the store folder is made on the first write.
  try {
    const state = path.join(root, '.runlens');
    const dir = fs.existsSync(state) ? state : nearestExisting(root);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new BackendStartError(
      `The store folder ${root} is not writable (${code || (err as Error).message}).`,
      'Point the "runlens.storePath" setting at a folder you can write to, or fix the folder\'s permissions, then run "Runlens: Restart Tracking Server".',
    );
  }
}

export async function startOrAttach(opts: StartOptions): Promise<Backend> {
  const root = path.resolve(opts.root);
  const existing = await attachable(readLockOwner(root));
  const owner = readLockOwner(root);
  if (existing && owner) return { kind: 'attached', url: existing, root, owner };
  checkWritable(root);
  const serve = (port: number): Promise<ServerProcess> =>
    forkServer({ cliPath: opts.cliPath, root, port, level: opts.level ?? 'info', log: opts.log, maxArtifactBytes: opts.maxArtifactBytes, recover: opts.recover, governanceFile: opts.governanceFile });
  try {
    try {
      const child = await serve(opts.preferredPort);
      return { kind: 'embedded', url: child.url, root, process: child, portFallback: false };
    } catch (err) {
      if (opts.preferredPort === 0 || !(err instanceof ServerStartFailure) || err.reason !== 'portUnavailable') throw err;
      opts.log.warn(`port ${opts.preferredPort} is taken (${err.code}); serving on a free port instead`);
      const child = await serve(0);
      return { kind: 'embedded', url: child.url, root, process: child, portFallback: true };
    }
  } catch (err) {
    if (!(err instanceof ServerStartFailure)) throw err;
    if (err.reason === 'locked' && err.owner) {
      const url = await attachable(err.owner);
      if (url) return { kind: 'attached', url, root, owner: err.owner };
      throw new BackendStartError(
        `The store ${root} is locked by process ${err.owner.pid} on ${err.owner.hostname}, which does not answer${err.owner.url ? ` at ${err.owner.url}` : ''}.`,
        'Close the other Runlens window or `runlens serve` using this store, then run "Runlens: Restart Tracking Server".',
      );
    }
    if (err.reason === 'damaged') {
      throw new BackendStartError(err.message, 'Choose "Recover Store" to open it from what survives (the damaged file is kept), or restore the folder from a backup.', true);
    }
    if (err.reason === 'permission') {
      throw new BackendStartError(`Cannot write the store at ${root}: ${err.message}`, 'Choose a writable folder in the "runlens.storePath" setting.');
    }
    throw new BackendStartError(`The tracking server could not start: ${err.message}`, 'See the Runlens output channel for details, then run "Runlens: Restart Tracking Server".');
  }
}
