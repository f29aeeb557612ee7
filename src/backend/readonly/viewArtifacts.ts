/**
 * The artifacts of an existing MLflow store, served in place and never written.
 *
 * Paths are those of MLflow's artifact proxy, rooted at the store's artifacts destination (what
 * `mlflow-artifacts:` URIs name, e.g. `<store>/mlartifacts`). Artifacts kept at local paths (the
 * `/…/mlruns/<exp>/<run>/artifacts` a client writing straight to `sqlite:///` records) are served
 * under `~<n>/…`, where n names one of the store's local artifact roots: only folders the store
 * itself points at are reachable, and each root keeps the symlink and `..` confinement of the
 * local artifact store.
 */
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ArtifactDownload, ArtifactFileInfo, ArtifactKind, ArtifactRepository } from '../api/artifacts';
import { doesNotExist } from '../../domain/errors';
import { ArtifactStore } from '../../store/artifacts/artifactStore';
import { proxyPath } from '../../domain/artifactUri';

const MOUNT = /^~(\d+)(?:\/(.*))?$/;

export class ViewArtifacts implements ArtifactRepository {
  private readonly proxy: ArtifactStore | undefined;
  private readonly mounts: ArtifactStore[];

  constructor(
    destination: string | undefined,
    localRoots: string[],
    private readonly refuse: () => Error,
  ) {
    this.proxy = destination === undefined ? undefined : new ArtifactStore(destination);
    // Nested roots collapse into the outermost, so each file has one path.
    const sorted = [...new Set(localRoots.map((r) => path.resolve(r)))].sort((a, b) => a.length - b.length);
    const kept: string[] = [];
    for (const r of sorted) if (!kept.some((k) => r === k || r.startsWith(k + path.sep))) kept.push(r);
    this.mounts = kept.map((r) => new ArtifactStore(r));
  }

  get localRoot(): string | undefined {
    return this.proxy?.localRoot;
  }

  /** Where this repository serves an artifact URI, or undefined when it does not serve it. */
  locate(uri: string): string | undefined {
    const proxied = proxyPath(uri);
    if (proxied !== undefined) return this.proxy ? proxied : undefined;
    const local = localPathOf(uri);
    if (local === undefined) return undefined;
    for (let i = 0; i < this.mounts.length; i++) {
      const root = this.mounts[i]!.root;
      if (local === root || local.startsWith(root + path.sep)) {
        const rel = path.relative(root, local).split(path.sep).join('/');
        return rel ? `~${i}/${rel}` : `~${i}`;
      }
    }
    return undefined;
  }

  private target(rawPath: string | undefined): { store: ArtifactStore; rel: string } {
    const m = MOUNT.exec(rawPath ?? '');
    if (m) {
      const store = this.mounts[Number(m[1])];
      if (!store) throw doesNotExist(`Artifact '${rawPath}' does not exist.`);
      return { store, rel: m[2] ?? '' };
    }
    if (!this.proxy) throw doesNotExist(`Artifact '${rawPath ?? ''}' does not exist: this store has no artifacts destination.`);
    return { store: this.proxy, rel: rawPath ?? '' };
  }

  async inspect(rawPath: string): Promise<ArtifactKind> {
    const { store, rel } = this.target(rawPath);
    return rel === '' ? { kind: 'dir' } : store.inspect(rel);
  }

  async read(rawPath: string): Promise<ArtifactDownload> {
    const { store, rel } = this.target(rawPath);
    return store.read(rel);
  }

  async list(rawPath: string | undefined): Promise<ArtifactFileInfo[]> {
    const { store, rel } = this.target(rawPath);
    return store.list(rel);
  }

  write(_rawPath: string, body: Readable): Promise<number> {
    body.resume(); // drain what the client sends; nothing is kept
    return Promise.reject(this.refuse());
  }
  delete(): Promise<void> {
    return Promise.reject(this.refuse());
  }
  createMultipart(): Promise<{ uploadId: string; parts: number[] }> {
    return Promise.reject(this.refuse());
  }
  writePart(_uploadId: string, _partNumber: number, body: Readable): Promise<string> {
    body.resume();
    return Promise.reject(this.refuse());
  }
  completeMultipart(): Promise<void> {
    return Promise.reject(this.refuse());
  }
  abortMultipart(): Promise<void> {
    return Promise.reject(this.refuse());
  }
}

/** The local path of a `file:` URI or an absolute path; undefined for any other scheme. */
export function localPathOf(uri: string): string | undefined {
  if (/^file:/i.test(uri)) {
    try {
      return path.resolve(decodeURIComponent(new URL(uri).pathname));
    } catch {
      return undefined;
    }
  }
  return path.isAbsolute(uri) ? path.resolve(uri) : undefined;
}
