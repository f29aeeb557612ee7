/**
 * The write and fsync steps that make a store write durable. A write call may write only part of
 * its buffer and report no error (the disk filled up half-way; the next call would get ENOSPC),
 * so every durable write here loops until all bytes are written, or throws.
 */
import * as fs from 'node:fs';

/** Makes a rename or unlink in `dir` durable (POSIX: the directory entry needs its own fsync). */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncDir off the event loop. */
async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface DirSync {
  running: Promise<void>;
  /** The one sync that starts after `running`: everyone who asks meanwhile shares it. */
  queued: Promise<void> | undefined;
}

const dirSyncs = new Map<string, DirSync>();

function startDirSync(dir: string): Promise<void> {
  const entry: DirSync = { running: Promise.resolve(), queued: undefined };
  entry.running = fsyncDirAsync(dir).finally(() => {
    if (dirSyncs.get(dir) === entry && !entry.queued) dirSyncs.delete(dir);
  });
  dirSyncs.set(dir, entry);
  return entry.running;
}

/**
 * Makes renames and unlinks in `dir` done before the call durable, off the event loop. Calls
 * for one directory are batched: a sync already running may have begun before the caller's
 * rename, so the caller joins the next one, which starts when it ends and covers every caller
 * that arrived meanwhile (many small uploads into one folder cost about two fsyncs, not one each).
 */
export function syncDir(dir: string): Promise<void> {
  const entry = dirSyncs.get(dir);
  if (!entry) return startDirSync(dir);
  entry.queued ??= entry.running.then(
    () => startDirSync(dir),
    () => startDirSync(dir),
  );
  return entry.queued;
}

/** A write that stopped short of its buffer without an error of its own. */
export class ShortWriteError extends Error {
  readonly code = 'ENOSPC';
  constructor(written: number, wanted: number) {
    super(`short write: ${written} of ${wanted} bytes reached the file (disk full?)`);
  }
}

/** Writes all of `data` through `fh` (at `position`, or the file's append position). */
export async function writeAll(fh: fs.promises.FileHandle, data: Uint8Array, position?: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position === undefined ? null : position + done);
    if (bytesWritten <= 0) throw new ShortWriteError(done, data.length);
    done += bytesWritten;
  }
}

/** fdatasync of a raw descriptor, on the thread pool. */
export function datasyncFd(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Synchronous writeAll for a raw fd (series files are written positionally, in order). */
export function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    const n = fs.writeSync(fd, data, done, data.length - done, position + done);
    if (n <= 0) throw new ShortWriteError(done, data.length);
    done += n;
  }
}

/**
 * Syncs a file while it is still being written: every `every` bytes handed to `wrote`, one
 * fdatasync at a time on the thread pool, so the sync that makes it durable (`finish`) has only
 * the last part to write. An early sync's error is kept and thrown by `finish` (the kernel
 * reports a failed writeback once per open file: the last sync would not see it again).
 */
export class SyncAhead {
  private pendingBytes = 0;
  private running: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly fd: number,
    private readonly every = 8 * 1024 * 1024,
  ) {}

  wrote(bytes: number): void {
    this.pendingBytes += bytes;
    if (this.pendingBytes < this.every || this.running || this.failure) return;
    this.pendingBytes = 0;
    this.running = new Promise<void>((resolve) =>
      fs.fdatasync(this.fd, (err) => {
        if (err) this.failure ??= err;
        this.running = undefined;
        resolve();
      }),
    );
  }

  /** Waits for an early sync under way (before the file is closed on any path). */
  async settle(): Promise<void> {
    await this.running;
  }

  /** After the last byte is written: the fsync that makes the whole file durable. */
  async finish(): Promise<void> {
    await this.settle();
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => fs.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
  }
}

/** Writes `data` as the whole of `file` and resolves once it is fsynced (appends: appendSynced). */
export async function writeSynced(file: string, data: Uint8Array): Promise<void> {
  const fh = await fs.promises.open(file, 'w');
  try {
    await writeAll(fh, data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Appends `data` to `file` and fsyncs it; if any byte fails to land, the file is cut back to its
 * old length, so a torn record never sits in front of the next append.
 */
export async function appendSynced(file: string, data: Uint8Array): Promise<void> {
  const fh = await fs.promises.open(file, 'a');
  try {
    const before = (await fh.stat()).size;
    try {
      await writeAll(fh, data);
      await fh.sync();
    } catch (err) {
      await fh.truncate(before).catch(() => undefined);
      throw err;
    }
  } finally {
    await fh.close();
  }
}

/** Whether an error means the disk (or quota) is full: the store then retries once space is free. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

/** Free bytes for an unprivileged writer on the file system holding `dir`, when the OS says. */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
