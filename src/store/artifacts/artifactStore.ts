/**
 * Artifact files under the store root (`<root>/<experiment>/<run>/artifacts/…`,
 * `<root>/<experiment>/models/<model>/artifacts/…`), addressed by the relative paths of MLflow's
 * artifact proxy. Uploads stream to a temp file in `.runlens/uploads`, are fsynced, then renamed
 * into place: an interrupted upload leaves nothing visible, an acknowledged one survives a crash.
 */
import { appendSynced, SyncAhead, syncDir, writeAll } from '../durableFiles';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ArtifactDownload, ArtifactFileInfo, ArtifactKind, ArtifactRepository } from '../../backend/api/artifacts';
import { pipeline } from 'node:stream/promises';
import { MlflowError, invalidParameter, doesNotExist } from '../../domain/errors';
import { INTERNAL_DIR, normaliseArtifactPath, resolveInside } from './artifactPaths';

export interface ArtifactStoreOptions {
  /** Largest single artifact accepted, in bytes (default: no limit). */
  maxArtifactBytes?: number;
  /** Runs before anything is written under the root (a lazy store creates itself there). */
  beforeWrite?: () => Promise<void>;
}

export interface MultipartCredential {
  part_number: number;
  /** Server-relative path the client PUTs the part to. */
  path: string;
}

export class ArtifactTooLargeError extends MlflowError {
  constructor(limit: number) {
    super('INVALID_PARAMETER_VALUE', `Artifact exceeds the maximum artifact size of ${limit} bytes (runlens serve --max-artifact-mb).`);
  }
  override get httpStatus(): number {
    return 413;
  }
}

/**
 * A file-system error a client's path caused, as MLflow's 400 (with the client's path, never the
 * store's absolute one); any other error is left for the caller (a 500 is a server fault).
 */
function clientPathError(err: unknown, rel: string, action: string): unknown {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return invalidParameter(`Cannot ${action} artifact '${rel}': a parent of it is a file.`);
    case 'EISDIR':
      return invalidParameter(`Cannot ${action} artifact '${rel}': it is a directory.`);
    case 'ENAMETOOLONG':
      return invalidParameter(`Cannot ${action} artifact '${rel}': the path is too long for this file system.`);
    default:
      return err;
  }
}

/** The deepest existing ancestor of `dir` must be a directory, or creating `dir` fails. */
function checkParentIsDirectory(dir: string, rel: string, action: string): void {
  for (let probe = dir; ; probe = path.dirname(probe)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw clientPathError(err, rel, action);
    }
    if (stat) {
      if (!stat.isDirectory()) throw invalidParameter(`Cannot ${action} artifact '${rel}': a parent of it is a file.`);
      return;
    }
    if (path.dirname(probe) === probe) return;
  }
}

export class ArtifactStore implements ArtifactRepository {
  private readonly uploads: string;

  constructor(
    readonly root: string,
    private readonly opts: ArtifactStoreOptions = {},
  ) {
    this.uploads = path.join(root, INTERNAL_DIR, 'uploads');
  }

  get localRoot(): string {
    return this.root;
  }

  /** Removes temp files of uploads that were cut off before a restart. */
  sweepInterruptedUploads(): number {
    if (!fs.existsSync(this.uploads)) return 0;
    const stale = fs.readdirSync(this.uploads);
    for (const f of stale) fs.rmSync(path.join(this.uploads, f), { recursive: true, force: true });
    return stale.length;
  }

  private file(rawPath: string): { rel: string; full: string } {
    const rel = normaliseArtifactPath(rawPath);
    return { rel, full: resolveInside(this.root, rel) };
  }

  /** The file a (validated) artifact path names, for readers that need random access. */
  localPath(rawPath: string): string {
    return this.file(rawPath).full;
  }

  /**
   * Where a (validated) artifact path really lands, relative to the real store root: `.`, `..`
   * and `%2F` spellings normalised, symlinks on the way followed. Two paths name the same file
   * exactly when this gives the same answer (compared case-insensitively on such file systems).
   */
  canonicalPath(rawPath: string): string {
    const { full } = this.file(rawPath);
    const realRoot = fs.realpathSync.native(this.root);
    let probe = full;
    for (;;) {
      try {
        const real = path.join(fs.realpathSync.native(probe), path.relative(probe, full));
        return path.relative(realRoot, real).split(path.sep).join('/');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw clientPathError(err, rawPath, 'resolve');
      }
      const parent = path.dirname(probe);
      if (parent === probe) return path.relative(this.root, full).split(path.sep).join('/');
      probe = parent;
    }
  }

  /** Appends `data` to `rawPath` (creating it) and fsyncs before resolving. */
  async appendDurably(rawPath: string, data: Buffer): Promise<void> {
    const { rel, full } = this.file(rawPath);
    const created = !fs.existsSync(full);
    checkParentIsDirectory(path.dirname(full), rel, 'append to');
    if (this.opts.beforeWrite) await this.opts.beforeWrite();
    fs.mkdirSync(path.dirname(full), { recursive: true });
    await appendSynced(full, data);
    if (created) await syncDir(path.dirname(full));
  }

  /** Streams `body` to `rawPath`, replacing any file there only once every byte is on disk. */
  async write(rawPath: string, body: Readable): Promise<number> {
    const { rel, full } = this.file(rawPath);
    if (fs.existsSync(full) && fs.statSync(full).isDirectory()) throw invalidParameter(`Cannot write artifact '${rel}': it is a directory.`);
    // Refused before a byte of the body is read, rather than after it all streamed to a temp file.
    checkParentIsDirectory(path.dirname(full), rel, 'write');
    if (this.opts.beforeWrite) {
      // The body may fail while the store is being created: keep its error for the pipeline below
      // (which reports a stream's stored error) instead of letting it go unhandled.
      const hold = (): void => undefined;
      body.on('error', hold);
      try {
        await this.opts.beforeWrite();
      } finally {
        body.off('error', hold);
      }
    }
    fs.mkdirSync(this.uploads, { recursive: true });
    const tmp = path.join(this.uploads, randomUUID());
    const limit = this.opts.maxArtifactBytes;
    let size = 0;
    try {
      // Opened synchronously: a stream opening it lazily could create the temp file after the
      // cleanup below when the body fails at once; awaiting an open would leave the body without
      // an error listener meanwhile.
      const out = fs.createWriteStream(tmp, { fd: fs.openSync(tmp, 'wx') });
      // Synced as it arrives through a second handle (the stream closes its own when it ends or
      // fails), so a large upload's last sync has only the tail to write.
      const syncFd = fs.openSync(tmp, 'r+');
      const ahead = new SyncAhead(syncFd);
      try {
        await pipeline(
          body,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              size += chunk.length;
              if (limit !== undefined && size > limit) throw new ArtifactTooLargeError(limit);
              yield chunk;
              ahead.wrote(chunk.length);
            }
          },
          out,
        );
        await ahead.finish();
      } finally {
        await ahead.settle();
        fs.closeSync(syncFd);
      }
      await this.commit(tmp, rel, full, { synced: true });
      return size;
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** fsync the temp file (unless the writer did), re-check the destination (a symlink may have appeared), rename, fsync the directory (batched). */
  private async commit(tmp: string, rel: string, full: string, opts: { synced?: boolean } = {}): Promise<void> {
    if (!opts.synced) {
      const fh = await fs.promises.open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    try {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      resolveInside(this.root, rel); // again: a symlink may have appeared while the body streamed
      fs.renameSync(tmp, full);
    } catch (err) {
      // A file or directory may have appeared in the way while the body streamed.
      throw clientPathError(err, rel, 'write');
    }
    // Off the event loop, and shared by uploads landing in the same folder meanwhile.
    await syncDir(path.dirname(full));
  }

  /**
   * What an artifact path names, for routes that word "missing" and "a directory" differently
   * (MLflow's download routes); the path is validated as for every other operation.
   */
  async inspect(rawPath: string): Promise<ArtifactKind> {
    const rel = normaliseArtifactPath(rawPath, true);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(resolveInside(this.root, rel));
    } catch (err) {
      if (err instanceof MlflowError) throw err;
      return { kind: 'missing' };
    }
    if (stat.isDirectory()) return { kind: 'dir' };
    return stat.isFile() ? { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs } : { kind: 'missing' };
  }

  /** Opens a file for download; RESOURCE_DOES_NOT_EXIST (404) if it is missing or a directory. */
  async read(rawPath: string): Promise<ArtifactDownload> {
    const { rel, full } = this.file(rawPath);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      throw doesNotExist(`Artifact '${rel}' does not exist.`);
    }
    if (!stat.isFile()) throw doesNotExist(`Artifact '${rel}' is not a file.`);
    return { size: stat.size, stream: fs.createReadStream(full) };
  }

  /**
   * Lists one directory level. A missing path, or a path naming a file, lists as empty: the
   * client tells files from directories that way.
   */
  async list(rawPath: string | undefined): Promise<ArtifactFileInfo[]> {
    return this.listNow(rawPath);
  }

  private listNow(rawPath: string | undefined): ArtifactFileInfo[] {
    const rel = normaliseArtifactPath(rawPath ?? '', true);
    const full = resolveInside(this.root, rel);
    let entries: fs.Dirent[];
    try {
      if (!fs.statSync(full).isDirectory()) return [];
      entries = fs.readdirSync(full, { withFileTypes: true });
    } catch {
      return [];
    }
    const out: ArtifactFileInfo[] = [];
    for (const e of entries) {
      if (rel === '' && e.name === INTERNAL_DIR) continue;
      const child = path.join(full, e.name);
      let stat: fs.Stats;
      try {
        stat = fs.statSync(child);
        // `full` is inside the root, so only a symlink entry can lead out of it.
        if (e.isSymbolicLink()) resolveInside(this.root, rel ? `${rel}/${e.name}` : e.name);
      } catch {
        continue; // dangling or escaping symlink: not an artifact
      }
      out.push(stat.isDirectory() ? { path: e.name, is_dir: true } : { path: e.name, is_dir: false, file_size: stat.size });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Every file under a directory, recursively, with paths relative to it. */
  listRecursive(rawPath: string): ArtifactFileInfo[] {
    const out: ArtifactFileInfo[] = [];
    const walk = (rel: string, prefix: string): void => {
      for (const f of this.listNow(rel)) {
        const p = prefix ? `${prefix}/${f.path}` : f.path;
        out.push({ ...f, path: p });
        if (f.is_dir) walk(rel ? `${rel}/${f.path}` : f.path, p);
      }
    };
    walk(normaliseArtifactPath(rawPath, true), '');
    return out;
  }

  /** Deletes a file or a directory tree. */
  async delete(rawPath: string): Promise<void> {
    const { rel, full } = this.file(rawPath);
    if (!fs.existsSync(full)) throw doesNotExist(`Artifact '${rel}' does not exist.`);
    fs.rmSync(full, { recursive: true, force: true });
  }

  // ---- multipart uploads (the client uses them for files ≥ 500 MB when enabled) ----------

  async createMultipart(rawPath: string, numParts: number): Promise<{ uploadId: string; parts: number[] }> {
    normaliseArtifactPath(rawPath);
    if (!Number.isInteger(numParts) || numParts < 1 || numParts > 10_000) {
      throw invalidParameter(`Invalid num_parts ${numParts}: expected 1 to 10000.`);
    }
    if (this.opts.beforeWrite) await this.opts.beforeWrite();
    const uploadId = randomUUID();
    fs.mkdirSync(path.join(this.uploads, `mpu-${uploadId}`), { recursive: true });
    fs.writeFileSync(path.join(this.uploads, `mpu-${uploadId}`, 'target'), rawPath);
    return { uploadId, parts: Array.from({ length: numParts }, (_, i) => i + 1) };
  }

  private mpuDir(uploadId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) throw invalidParameter(`Invalid upload_id '${uploadId}'.`);
    const dir = path.join(this.uploads, `mpu-${uploadId}`);
    if (!fs.existsSync(dir)) throw doesNotExist(`Multipart upload '${uploadId}' does not exist.`);
    return dir;
  }

  /** Stores one part; returns its ETag (an MD5 of the bytes, as S3 does). */
  async writePart(uploadId: string, partNumber: number, body: Readable): Promise<string> {
    const dir = this.mpuDir(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw invalidParameter(`Invalid part number ${partNumber}.`);
    const hash = createHash('md5');
    const tmp = path.join(dir, `${partNumber}.tmp`);
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      },
      fs.createWriteStream(tmp),
    );
    fs.renameSync(tmp, path.join(dir, String(partNumber)));
    return `"${hash.digest('hex')}"`;
  }

  /** Concatenates the parts, in order, into the target file (temp + fsync + rename). */
  async completeMultipart(rawPath: string, uploadId: string, partNumbers: number[]): Promise<void> {
    const dir = this.mpuDir(uploadId);
    const target = fs.readFileSync(path.join(dir, 'target'), 'utf8');
    if (normaliseArtifactPath(target) !== normaliseArtifactPath(rawPath)) throw invalidParameter(`Upload '${uploadId}' belongs to another path.`);
    const { rel, full } = this.file(rawPath);
    const tmp = path.join(dir, 'assembled');
    // Written asynchronously: a multi-GB assembly must not hold the event loop (commit fsyncs it).
    const out = await fs.promises.open(tmp, 'w');
    let size = 0;
    try {
      for (const n of [...partNumbers].sort((a, b) => a - b)) {
        const part = path.join(dir, String(n));
        if (!fs.existsSync(part)) throw invalidParameter(`Part ${n} of upload '${uploadId}' was never uploaded.`);
        const data = await fs.promises.readFile(part);
        size += data.length;
        if (this.opts.maxArtifactBytes !== undefined && size > this.opts.maxArtifactBytes) throw new ArtifactTooLargeError(this.opts.maxArtifactBytes);
        await writeAll(out, data);
      }
    } finally {
      await out.close();
    }
    await this.commit(tmp, rel, full);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  async abortMultipart(uploadId: string): Promise<void> {
    fs.rmSync(this.mpuDir(uploadId), { recursive: true, force: true });
  }
}
