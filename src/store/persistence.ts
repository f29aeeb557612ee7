/**
 * Makes the in-memory sql.js database durable: snapshot + journal replay at start-up, journal
 * appends per write, and compacting checkpoints (snapshot.ts: verified before it replaces the old).
 *
 * Files under `<root>/.runlens/`:
 *   store.sqlite, store.prev.sqlite, store.sums.json   snapshots (see snapshot.ts)
 *   journal/NNNNNNNN.log  write-ahead journal generations, kept back to the previous snapshot
 *   series/ab/<run>.bin   metric histories (see seriesFiles.ts)
 *
 * A store opened `lazy` whose folder does not exist yet creates no file until its first write
 * (opening a workspace must not leave an empty `mlruns/` behind): until then it serves an empty
 * database from memory; the first commit creates the folder (through `lazy.create`, which takes
 * the real lock), fsyncs every new directory entry, journals what was held back (the Default
 * experiment) and only then the write itself.
 *
 * A write that fails (a full disk, an I/O error) is never acknowledged and never stays visible:
 * the journal is cut back to its durable end and memory is rebuilt from the files, then writes
 * are refused with 503 until the disk takes them again — no restart needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { freeBytes, isDiskFull, syncDir } from './durableFiles';
import { applyOp } from './ops';
import { mkdirsDurably } from './storeLock';
import { MlflowError } from '../domain/errors';
import { encodeRecord, JournalWriter } from './journal';
import type { Logger } from '../domain/logger';
import type { Op, SeriesWrite } from './ops';
import { SeriesFiles } from './seriesFiles';
import { SideFiles, type SideAppend } from './sideFiles';
import { writeSnapshot } from './snapshot';
import { loadSqlJs, SqlDb } from './sqlite';
import { emptyState, journalName, listGens, loadState, openImage, type RecoveryReport } from './storeLoad';

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
  /** Defer creating a store that does not exist yet until its first write. */
  lazy?: LazyCreation;
}

export interface LazyCreation {
  /** Called before the first file is written (may run again after a failed attempt): takes the real lock. */
  create(): void;
}

/** What one journal record holds: a store op (with its metric points) or a side-file append. */
type Entry = { op: Op; write: SeriesWrite | undefined } | { side: SideAppend };

type QueuedCommit = Entry & {
  resolve: () => void;
  reject: (err: Error) => void;
};

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
  /** Lazy store not created yet: ops applied in memory that open() itself made (no client asked). */
  private held: Op[] = [];
  /** Lazy store being created: commits waiting for the journal, in order. */
  private queued: QueuedCommit[] = [];
  private creating: Promise<void> | undefined;
  /** Files whose appends ride in the journal (see sideFiles.ts). */
  readonly sideFiles: SideFiles;

  private constructor(
    private readonly SQL: SqlJsStatic,
    readonly db: SqlDb,
    readonly series: SeriesFiles,
    /** Undefined while a lazy store has not been created on disk. */
    private journal: JournalWriter | undefined,
    private gen: number,
    /** Generation of store.sqlite on disk; the journal is kept back to the previous snapshot's. */
    private snapshotGen: number,
    private readonly dir: string,
    private readonly opts: PersistenceOptions,
    readonly recovery: RecoveryReport,
    sideFiles?: SideFiles,
  ) {
    this.sideFiles = sideFiles ?? new SideFiles(opts.root);
  }

  static stateDir(root: string): string {
    return path.join(root, '.runlens');
  }

  static async open(opts: PersistenceOptions): Promise<Persistence> {
    const dir = Persistence.stateDir(opts.root);
    const journalDir = path.join(dir, 'journal');
    const SQL = await loadSqlJs();
    const series = new SeriesFiles(path.join(dir, 'series'), (msg) => opts.log.warn(msg));
    if (opts.lazy && !fs.existsSync(dir)) {
      const state = emptyState(SQL);
      return new Persistence(SQL, new SqlDb(state), series, undefined, 1, 1, dir, opts, { snapshotLoaded: false, journalRecords: 0, repairs: [] });
    }
    fs.mkdirSync(journalDir, { recursive: true });
    const sideFiles = new SideFiles(opts.root);
    const state = loadState(SQL, dir, opts.root, opts.log, series, { recover: opts.recover ?? false, side: sideFiles });
    let persistence: Persistence | undefined;
    const journal = await JournalWriter.open(path.join(journalDir, journalName(state.lastGen)), {
      replayedBytes: state.replayedBytes,
      onFailure: (err) => persistence?.writeFailed(err),
    }).catch(async (err: Error) => {
      await sideFiles.close();
      throw err;
    });
    persistence = new Persistence(SQL, new SqlDb(state.raw), series, journal, state.lastGen, state.snapshotGen, dir, opts, state.report, sideFiles);
    if (state.needsCheckpoint) {
      // Damage was worked around: a fresh snapshot means the next start does not meet it again.
      await persistence.checkpoint().catch((err: Error) => opts.log.error(`checkpoint after recovery failed: ${err.message}`));
    }
    return persistence;
  }

  /** Whether the store has files yet (a lazy store before its first write has none). */
  get created(): boolean {
    return this.journal !== undefined;
  }

  /**
   * Journals an op open() made on its own (the Default experiment): for a lazy store not created
   * yet it is held, in memory only, and journaled ahead of the first write.
   */
  commitOwn(op: Op): Promise<void> {
    if (this.journal || this.creating) return this.commit(op, undefined);
    this.held.push(op);
    return Promise.resolve();
  }

  private commitFirst(entry: Entry): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.queued.push({ ...entry, resolve, reject }));
    this.startCreating();
    return done;
  }

  private startCreating(): Promise<void> {
    this.creating ??= this.create().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  /** Creates a lazy store's files now: something (an artifact) is about to be written under its root. */
  async ensureCreated(): Promise<void> {
    if (this.journal) return;
    if (this.closed) throw new Error('store is closed');
    await this.startCreating();
    if (!this.journal) throw this.unavailableError(new Error('the store folder could not be created'));
  }

  /** Creates a lazy store's files durably, then journals the held and queued ops in order. */
  private async create(): Promise<void> {
    const journalDir = path.join(this.dir, 'journal');
    let journal: JournalWriter | undefined;
    try {
      this.opts.lazy?.create();
      const made = mkdirsDurably(journalDir);
      journal = await JournalWriter.open(path.join(journalDir, journalName(1)), { onFailure: (err) => this.writeFailed(err) });
      // The journal file's own entry, and every new directory up to one that existed, must
      // survive a crash for the first acknowledged write to.
      for (const d of [journalDir, ...made.filter((d) => d !== journalDir)]) await syncDir(d);
      // Held ops first and on their own: if the first write fails, they are on disk regardless.
      await Promise.all(this.held.map((op) => journal!.append(encodeRecord(op))));
    } catch (err) {
      await journal?.close().catch(() => undefined);
      this.unavailable = undefined;
      const queued = this.queued;
      this.queued = [];
      // Nothing queued was kept: memory goes back to the empty store plus what open() made.
      const raw = emptyState(this.SQL);
      this.db.replaceWith(raw);
      for (const op of this.held) applyOp(this.db, op);
      const failure = this.unavailableError(err as Error);
      this.sideFiles.rewind();
      for (const q of queued) {
        if ('op' in q && q.write) this.series.settle(q.write);
        q.reject(failure);
      }
      this.opts.log.error(`could not create the store at ${this.opts.root}: ${(err as Error).message}`);
      return;
    }
    this.journal = journal;
    this.held = [];
    this.opts.log.info(`created the store at ${this.opts.root} on its first write`);
    const queued = this.queued;
    this.queued = [];
    for (const q of queued) this.append(q).then(q.resolve, q.reject);
  }

  /** Rebuilds memory from the files: what the failed write (and all after it) changed is gone. */
  private rebuild(): void {
    const state = loadState(this.SQL, this.dir, this.opts.root, this.opts.log, this.series, { recover: false, side: this.sideFiles });
    this.db.replaceWith(state.raw);
    this.snapshotGen = state.snapshotGen;
  }

  /** Called by the journal, synchronously, when a write failed and was cut off the file. */
  private writeFailed(cause: Error): void {
    this.series.forgetInFlight();
    this.sideFiles.rewind();
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
      this.journal?.resume();
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
    if (!this.journal) return this.commitFirst({ op, write });
    return this.append({ op, write });
  }

  /**
   * Appends `text` to the side file `rel` (relative to the root) through the journal: resolves
   * once durable, and the text is in the file by then (see sideFiles.ts). While the journal
   * refuses writes (a full disk), the text is written and synced into the file directly instead.
   */
  appendSide(rel: string, text: string): Promise<void> {
    try {
      if (this.closed) throw new Error('store is closed');
      // Behind direct appends under way, or while the journal still refuses: written directly too.
      if (this.sideFiles.directBusy(rel) || (this.unavailable && !this.writableAgain())) return this.sideFiles.appendDirect(rel, text);
      const side = this.sideFiles.reserve(rel, text);
      if (!this.journal) return this.commitFirst({ side });
      return this.append({ side });
    } catch (err) {
      // Opening the file can fail (no descriptors, a full disk): nothing was reserved.
      return Promise.reject(err as Error);
    }
  }

  /** ensureWritable() as a question: whether the store takes writes again now. */
  private writableAgain(): boolean {
    try {
      this.ensureWritable();
      return true;
    } catch {
      return false;
    }
  }

  /** Whether writes are refused now (after a failed write, until the disk takes them again). */
  get refusing(): boolean {
    return this.unavailable !== undefined;
  }

  private append(entry: Entry): Promise<void> {
    const journal = this.journal!;
    const done =
      'op' in entry
        ? journal.append(encodeRecord(entry.op), entry.write ? () => this.series.write(entry.write!) : undefined)
        : journal.append(encodeRecord(entry.side), () => this.sideFiles.materialize(entry.side));
    if (journal.size >= (this.opts.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES) && !this.checkpointing) {
      void this.checkpoint().catch((err: Error) => this.opts.log.error(`checkpoint failed: ${err.message}`));
    }
    return done.catch((err: Error) => {
      if ('op' in entry && entry.write) this.series.settle(entry.write);
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
    const journal = this.journal;
    if (!journal) return; // a lazy store with nothing written has nothing to snapshot
    const started = Date.now();
    const journalDir = path.join(this.dir, 'journal');
    const nextGen = this.gen + 1;
    const failures = journal.failureCount;
    const nextHandle = await JournalWriter.openNext(path.join(journalDir, journalName(nextGen)));
    if (journal.failureCount !== failures || this.unavailable) {
      await nextHandle.close();
      throw new Error('skipped: a journal write failed meanwhile');
    }
    // Synchronous from here to export(): the image holds exactly the ops journaled before the switch.
    const oldDrained = journal.switchTo(nextHandle);
    this.gen = nextGen;
    this.db.run("INSERT OR REPLACE INTO meta VALUES ('journal_gen', ?)", [String(nextGen)]);
    const image = this.db.export();

    await oldDrained; // every op in the image is settled and its series bytes written
    if (journal.failureCount !== failures) {
      throw new Error('a journal write failed during the checkpoint; the old snapshot and journal stay in place');
    }
    await this.series.syncAll();
    // Side-file appends journaled before the switch are in their files: on disk before any
    // journal generation holding them can be dropped.
    await this.sideFiles.syncAll();
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
    await this.creating;
    await this.journal?.whenIdle();
    // A size-triggered checkpoint may be under way: let it finish before files are released.
    await this.checkpointing?.catch(() => undefined);
    if (!this.unavailable && opts.checkpoint !== false) {
      await this.checkpoint().catch((err: Error) =>
        this.opts.log.error(`shutdown checkpoint failed (${err.message}); the journal keeps every acknowledged write and the next start replays it`),
      );
    }
    this.closed = true;
    await this.journal?.close();
    // The journal holds them either way; synced here so the files are whole at rest.
    await this.sideFiles.syncAll().catch(() => undefined);
    await this.sideFiles.close();
    await this.series.close();
    this.db.close();
  }
}
