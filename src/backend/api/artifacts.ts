/**
 * Artifact files addressed by the relative paths of MLflow's artifact proxy
 * (`<experiment>/<run>/artifacts/…`). Bodies are streams both ways, so a backend may keep the
 * bytes anywhere (local files, a remote server's proxy) without holding a file in memory.
 */
import type { Readable } from 'node:stream';

export interface ArtifactFileInfo {
  /** Relative to the listed directory (the proxy's shape) or to a run root (runs/artifacts/list). */
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface ArtifactDownload {
  size: number;
  stream: Readable;
}

export type ArtifactKind = { kind: 'missing' } | { kind: 'dir' } | { kind: 'file'; size: number; mtimeMs: number };

export interface ArtifactRepository {
  /**
   * The folder on this machine the files live under, if they do: error messages sent to
   * clients are scrubbed of it. A backend that keeps no local files leaves it undefined.
   */
  readonly localRoot?: string | undefined;
  /**
   * The repository path an artifact URI (a run's or logged model's root) is served at, when this
   * repository serves it. Absent: only `mlflow-artifacts:` URIs, at their path.
   */
  locate?(uri: string): string | undefined;
  /** What a path names (routes word "missing" and "a directory" differently). */
  inspect(rawPath: string): Promise<ArtifactKind>;
  /** Opens a file for download; RESOURCE_DOES_NOT_EXIST if it is missing or a directory. */
  read(rawPath: string): Promise<ArtifactDownload>;
  /** One directory level; a missing path or a file lists as empty (the client relies on it). */
  list(rawPath: string | undefined): Promise<ArtifactFileInfo[]>;
  /** Stores `body` at the path, visible only once complete; resolves to the bytes written. */
  write(rawPath: string, body: Readable): Promise<number>;
  delete(rawPath: string): Promise<void>;
  createMultipart(rawPath: string, numParts: number): Promise<{ uploadId: string; parts: number[] }>;
  /** Resolves to the part's ETag. */
  writePart(uploadId: string, partNumber: number, body: Readable): Promise<string>;
  completeMultipart(rawPath: string, uploadId: string, partNumbers: number[]): Promise<void>;
  abortMultipart(uploadId: string): Promise<void>;
}
