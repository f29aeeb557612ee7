/**
 * Makes the in-memory sql.js database durable: snapshot + journal replay at start-up, journal
 * appends per write, and compacting checkpoints (snapshot.ts: verified before it replaces the old).
 *
 * Files under `<root>/.runlens/`:
 *   store.sqlite, store.prev.sqlite, store.sums.json   snapshots (see snapshot.ts)
 *   journal/NNNNNNNN.log  write-ahead journal generations, kept back to the previous snapshot
 *   series/ab/<run>.bin   metric histories (see seriesFiles.ts)
 *
 * A write that fails (a full disk, an I/O error) is never acknowledged and never stays visible:
 * the journal is cut back to its durable end and memory is rebuilt from the files, then writes
 * are refused with 503 until the disk takes them again — no restart needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { freeBytes, isDiskFull, syncDir } from './durableFiles';
import { MlflowError } from '../domain/errors';
import { encodeRecord, JournalWriter } from './journal';
import type { Logger } from '../domain/logger';
import type { Op, SeriesWrite } from './ops';
import { SeriesFiles } from './seriesFiles';
import { writeSnapshot } from './snapshot';
import { loadSqlJs, SqlDb } from './sqlite';
import { journalName, listGens, loadState, openImage, type RecoveryReport } from './storeLoad';

export { StoreDamagedError, type RecoveryReport } from './storeLoad';

/** Checkpoint once this many journal bytes accumulated since the last one. */
const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** After a failed write, try again once this much is free (where the OS tells free space). */
const MIN_FREE_BYTES = 1024 * 1024;
/** A new snapshot is opened as a database before it replaces the old one, up to this size. */
const OPEN_CHECK_MAX_BYTES = 256 * 1024 * 1024;

export interface PersistenceOptions {
  root: string;
  log: Logger;
  checkpointBytes?: number;
  /** Start even though the newest snapshot is damaged or missing: see StoreDamagedError. */
  recover?: boolean;
}

interface Unavailable {
  cause: Error;
  retryAt: number;
  backoffMs: number;
  /** Memory could not be rebuilt when the write failed: rebuild before writing again. */
  stale: boolean;
}

export class Persistence {
  private checkpointing: Promise<void> | undefined;
  private closed = false;
  private unavailable: Unavailable | undefined;

  private constructor(
    private readonly SQL: SqlJsStatic,
    readonly db: SqlDb,
    readonly series: SeriesFiles,
    private journal: JournalWriter,
    private gen: number,
    /** Generation of store.sqlite on disk; the journal is kept back to the previous snapshot's. */
    private snapshotGen: number,
    private readonly dir: string,
    private readonly opts: PersistenceOptions,
    readonly recovery: RecoveryReport,
  ) {}

  static stateDir(root: string): string {
    return path.join(root, '.runlens');
  }

  static async open(opts: PersistenceOptions): Promise<Persistence> {
    const dir = Persistence.stateDir(opts.root);
    const journalDir = path.join(dir, 'journal');
    fs.mkdirSync(journalDir, { recursive: true });
    const SQL = await loadSqlJs();
    const series = new SeriesFiles(path.join(dir, 'series'), (msg) => opts.log.warn(msg));
    const state = loadState(SQL, dir, opts.root, opts.log, series, { recover: opts.recover ?? false });
    let persistence: Persistence | undefined;
    const journal = await JournalWriter.open(path.join(journalDir, journalName(state.lastGen)), {
      replayedBytes: state.replayedBytes,
      onFailure: (err) => persistence?.writeFailed(err),
    });
    persistence = new Persistence(SQL, new SqlDb(state.raw), series, journal, state.lastGen, state.snapshotGen, dir, opts, state.report);
    if (state.needsCheckpoint) {
      // Damage was worked around: a fresh snapshot means the next start does not meet it again.
      await persistence.checkpoint().catch((err: Error) => opts.log.error(`checkpoint after recovery failed: ${err.message}`));
    }
    return persistence;
  }

  /** Rebuilds memory from the files: what the failed write (and all after it) changed is gone. */
  private rebuild(): void {
    const state = loadState(this.SQL, this.dir, this.opts.root, this.opts.log, this.series, { recover: false });
    this.db.replaceWith(state.raw);
    this.snapshotGen = state.snapshotGen;
  }

  /** Called by the journal, synchronously, when a write failed and was cut off the file. */
  private writeFailed(cause: Error): void {
    this.series.forgetInFlight();
    const backoffMs = Math.min((this.unavailable?.backoffMs ?? 50) * 2, 5000);
    this.unavailable = { cause, retryAt: Date.now() + backoffMs, backoffMs, stale: false };
    try {
      this.rebuild();
    } catch (err) {
      this.unavailable.stale = true;
      this.opts.log.error(`could not rebuild the store from disk after a failed write: ${(err as Error).message}`);
    }
    this.opts.log.error(`${cause.message}: the write was not acknowledged and nothing it changed was kept; refusing writes until the disk takes them again`);
  }

  private unavailableError(cause: Error): MlflowError {
    const full = isDiskFull(cause.cause ?? cause) || isDiskFull(cause);
    return new MlflowError(
      'TEMPORARILY_UNAVAILABLE',
      full
        ? `The tracking store's disk is full (${cause.message}). Nothing from this request was saved; free some space and retry (Runlens resumes by itself).`
        : `The tracking store cannot write right now (${cause.message}). Nothing from this request was saved; retry later.`,
    );
  }

  /**
   * Throws 503 while the store cannot write; after a failure, tries again (cheaply: cut the
   * journal back, rebuild memory if that had failed) once time has passed and space is free.
   */
  ensureWritable(): void {
    if (this.closed) throw new Error('store is closed');
    const u = this.unavailable;
    if (!u) return;
    const free = freeBytes(this.dir);
    if (Date.now() < u.retryAt || (free !== undefined && free < MIN_FREE_BYTES)) throw this.unavailableError(u.cause);
    try {
      if (u.stale) this.rebuild();
      this.journal.resume();
    } catch (err) {
      u.retryAt = Date.now() + u.backoffMs;
      throw this.unavailableError(err as Error);
    }
    this.unavailable = undefined;
    this.opts.log.info('the store writes again');
  }

  /**
   * Journals an op that has already been applied to the in-memory database. Resolves when it is
   * durable and its metric points are in the series file; rejects with an MlflowError otherwise.
   */
  commit(op: Op, write: SeriesWrite | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (write) this.series.expect(write);
    const done = this.journal.append(encodeRecord(op), write ? () => this.series.write(write) : undefined);
    if (this.journal.size >= (this.opts.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES) && !this.checkpointing) {
      void this.checkpoint().catch((err: Error) => this.opts.log.error(`checkpoint failed: ${err.message}`));
    }
    return done.catch((err: Error) => {
      if (write) this.series.settle(write);
      throw this.unavailableError(err);
    });
  }

  /** Why writes are refused now, if they are. */
  get writeFailure(): Error | undefined {
    return this.unavailable?.cause;
  }

  /** Writes a compact snapshot and drops the journal generations no snapshot needs. */
  checkpoint(): Promise<void> {
    if (!this.checkpointing) {
      this.checkpointing = this.doCheckpoint().finally(() => {
        this.checkpointing = undefined;
      });
    }
    return this.checkpointing;
  }

  private async doCheckpoint(): Promise<void> {
    if (this.unavailable) throw new Error(`skipped: the store cannot write (${this.unavailable.cause.message})`);
    const started = Date.now();
    const journalDir = path.join(this.dir, 'journal');
    const nextGen = this.gen + 1;
    const failures = this.journal.failureCount;
    const nextHandle = await JournalWriter.openNext(path.join(journalDir, journalName(nextGen)));
    if (this.journal.failureCount !== failures || this.unavailable) {
      await nextHandle.close();
      throw new Error('skipped: a journal write failed meanwhile');
    }
    // Synchronous from here to export(): the image holds exactly the ops journaled before the switch.
    const oldDrained = this.journal.switchTo(nextHandle);
    this.gen = nextGen;
    this.db.run("INSERT OR REPLACE INTO meta VALUES ('journal_gen', ?)", [String(nextGen)]);
    const image = this.db.export();

    await oldDrained; // every op in the image is settled and its series bytes written
    if (this.journal.failureCount !== failures) {
      throw new Error('a journal write failed during the checkpoint; the old snapshot and journal stay in place');
    }
    await this.series.syncAll();
    await writeSnapshot(this.dir, image, nextGen, (data) => this.checkOpens(data, nextGen));
    // store.prev.sqlite is now the snapshot that was current: keep the journal back to it.
    const keepFrom = this.snapshotGen;
    this.snapshotGen = nextGen;
    for (const gen of listGens(journalDir)) if (gen < keepFrom) fs.unlinkSync(path.join(journalDir, journalName(gen)));
    await syncDir(journalDir);
    this.opts.log.info(`checkpoint: ${(image.length / 1e6).toFixed(1)} MB snapshot in ${Date.now() - started} ms`);
  }

  private checkOpens(data: Uint8Array, gen: number): void {
    if (data.length > OPEN_CHECK_MAX_BYTES) return; // read back byte for byte already; opening would double memory
    const opened = openImage(this.SQL, data, false);
    if ('error' in opened) throw new Error(`the new snapshot does not open: ${opened.error}`);
    opened.raw.close();
    if (opened.gen !== gen) throw new Error(`the new snapshot names journal generation ${opened.gen}, not ${gen}`);
  }

  /**
   * Waits for queued writes, checkpoints (unless told not to: start-up then replays the
   * journal instead), and releases files. A checkpoint that fails (a full disk) is logged and
   * the journal kept: the next start replays it, losing nothing.
   */
  async close(opts: { checkpoint?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    await this.journal.whenIdle();
    // A size-triggered checkpoint may be under way: let it finish before files are released.
    await this.checkpointing?.catch(() => undefined);
    if (!this.unavailable && opts.checkpoint !== false) {
      await this.checkpoint().catch((err: Error) =>
        this.opts.log.error(`shutdown checkpoint failed (${err.message}); the journal keeps every acknowledged write and the next start replays it`),
      );
    }
    this.closed = true;
    await this.journal.close();
    await this.series.close();
    this.db.close();
  }
}
