/**
 * Serves the workspace store from this window, or attaches to whoever already serves it (another
 * window, `runlens serve`): the store's lock file names the owner and its URL. Port policy: try
 * the preferred port (stable per workspace), fall back to a free one when it is taken.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../domain/logger';
import { StoreDamagedError } from '../../store/persistence';
import { readLockOwner, StoreLockedError, type LockOwner } from '../../store/storeLock';
import { serveStore, type ServingStore } from '../../server/serve';
import { TrackingClient } from '../../client/trackingClient';

export type Backend =
  | { kind: 'embedded'; url: string; root: string; serving: ServingStore; portFallback: boolean }
  | { kind: 'attached'; url: string; root: string; owner: LockOwner };

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

function checkWritable(root: string): void {
  try {
    fs.mkdirSync(path.join(root, '.runlens'), { recursive: true });
    fs.accessSync(path.join(root, '.runlens'), fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new BackendStartError(
      `The store folder ${root} is not writable (${code || (err as Error).message}).`,
      'Point the "runlens.storePath" setting at a folder you can write to, or fix the folder\'s permissions, then run "Runlens: Restart Tracking Server".',
    );
  }
}

export async function startOrAttach(opts: { root: string; preferredPort: number; log: Logger; maxArtifactBytes?: number; recover?: boolean }): Promise<Backend> {
  const root = path.resolve(opts.root);
  const existing = await attachable(readLockOwner(root));
  const owner = readLockOwner(root);
  if (existing && owner) return { kind: 'attached', url: existing, root, owner };
  checkWritable(root);
  const serve = (port: number): Promise<ServingStore> => serveStore({ root, port, log: opts.log, maxArtifactBytes: opts.maxArtifactBytes, recover: opts.recover });
  try {
    try {
      const serving = await serve(opts.preferredPort);
      return { kind: 'embedded', url: serving.server.url, root, serving, portFallback: false };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (opts.preferredPort === 0 || (code !== 'EADDRINUSE' && code !== 'EACCES')) throw err;
      opts.log.warn(`port ${opts.preferredPort} is taken (${code}); serving on a free port instead`);
      const serving = await serve(0);
      return { kind: 'embedded', url: serving.server.url, root, serving, portFallback: true };
    }
  } catch (err) {
    if (err instanceof StoreLockedError) {
      const url = await attachable(err.owner);
      if (url) return { kind: 'attached', url, root, owner: err.owner };
      throw new BackendStartError(
        `The store ${root} is locked by process ${err.owner.pid} on ${err.owner.hostname}, which does not answer${err.owner.url ? ` at ${err.owner.url}` : ''}.`,
        'Close the other Runlens window or `runlens serve` using this store, then run "Runlens: Restart Tracking Server".',
      );
    }
    if (err instanceof BackendStartError) throw err;
    if (err instanceof StoreDamagedError) {
      throw new BackendStartError(err.message, 'Choose "Recover Store" to open it from what survives (the damaged file is kept), or restore the folder from a backup.', true);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'EPERM') {
      throw new BackendStartError(`Cannot write the store at ${root}: ${e.message}`, 'Choose a writable folder in the "runlens.storePath" setting.');
    }
    throw new BackendStartError(`The tracking server could not start: ${e.message}`, 'See the Runlens output channel for details, then run "Runlens: Restart Tracking Server".');
  }
}
