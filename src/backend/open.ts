/**
 * One way to open a backend from what a user types: a Runlens store folder, an `mlflow.db`
 * (path, `sqlite:///rel.db` or `sqlite:////abs.db`), or a legacy `mlruns/` file store (path or
 * `file://` URI) — as MLflow picks its store from the tracking URI's scheme. MLflow's own stores
 * open read-only, in place; a Runlens folder opens writable under its lock.
 */
import * as path from 'node:path';
import type { TrackingStore } from './api/tracking';
import { localPathOfUri } from './discover';
import { MlflowStoreView } from './readonly/storeView';
import { detectMlflowStore, openMlflowSource, type MlflowStoreKind } from './transfer/detect';
import { LocalStore, type LocalStoreOptions } from '../store/localStore';
import { StoreLock } from '../store/storeLock';
import { isRunlensStore } from './storeRoot';

export type BackendTarget = { kind: 'runlens'; root: string } | { kind: MlflowStoreKind; path: string } | { kind: 'server'; url: string };

/** What a `--root` value or tracking URI names; relative paths against `baseDir`. */
export function resolveTarget(uriOrPath: string, baseDir = process.cwd()): BackendTarget {
  if (/^https?:\/\//i.test(uriOrPath)) return { kind: 'server', url: uriOrPath.replace(/\/+$/, '') };
  const local = localPathOfUri(uriOrPath, baseDir);
  if (local === undefined) throw new Error(`'${uriOrPath}' is not a store Runlens can open: give a folder, an mlflow.db, a sqlite:/// or file:// URI, or an http(s) server.`);
  const kind = detectMlflowStore(local);
  return kind ? { kind, path: local } : { kind: 'runlens', root: local };
}

/** The read-only refusal's advice: how to get a writable copy. */
export function importHintFor(p: string): string {
  return `To write, import it into a Runlens store: runlens import ${JSON.stringify(p)} (or "Import into Runlens" in VS Code).`;
}

export function describeTarget(t: BackendTarget): string {
  switch (t.kind) {
    case 'runlens':
      return `the Runlens store at ${t.root}`;
    case 'mlflow.db':
      return `the mlflow.db at ${t.path}`;
    case 'mlruns':
      return `the MLflow file store at ${t.path}`;
    case 'server':
      return `the MLflow server at ${t.url}`;
  }
}

export interface OpenedBackend {
  target: BackendTarget;
  backend: TrackingStore;
  /** Set for a Runlens folder: the local store itself (recovery report, checkpoints, import). */
  local?: LocalStore;
  /** Lets the store go: closes it and releases its lock. */
  close(): Promise<void>;
  /** Records where the store is served, for other processes that find it locked. */
  setUrl(url: string): void;
}

export interface OpenOptions extends Omit<LocalStoreOptions, 'root'> {
  /** `mlflow-artifacts:` destination of an MLflow store (default: `mlartifacts` beside it). */
  artifactsDestination?: string;
  /** Re-read MLflow's stores when they change (default true). */
  watch?: boolean;
}

export async function openBackend(target: BackendTarget, opts: OpenOptions): Promise<OpenedBackend> {
  if (target.kind === 'server') throw new Error(`${describeTarget(target)} is a server: point the mlflow client at it directly, or import it with 'runlens import ${target.url}'.`);
  if (target.kind === 'runlens') {
    // A store not made yet is served from memory under a pending lock; the first write creates it.
    const lazy = !isRunlensStore(target.root);
    const lock = lazy ? StoreLock.acquirePending(target.root) : StoreLock.acquire(target.root);
    try {
      const store = await LocalStore.open({ ...opts, root: target.root, lazy: lazy ? { create: () => lock.promote() } : undefined });
      return {
        target,
        backend: store,
        local: store,
        setUrl: (url) => lock.setUrl(url),
        close: async () => {
          try {
            await store.close();
          } finally {
            lock.release();
          }
        },
      };
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  // MLflow's own store: never locked (MLflow does not know our lock) and never written.
  const p = target.path;
  const destination = opts.artifactsDestination ?? path.join(path.dirname(p), 'mlartifacts');
  const view = await MlflowStoreView.open({
    description: describeTarget(target),
    importHint: importHintFor(p),
    openSource: () => openMlflowSource(p, { artifactsDestination: destination }),
    artifactsDestination: destination,
    versionSearchHasAliases: target.kind === 'mlruns',
    watch: opts.watch === false ? [] : [p],
    log: opts.log,
  });
  return { target, backend: view, setUrl: () => undefined, close: () => view.close() };
}
