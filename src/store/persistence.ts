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
import type { Database, SqlJsStatic } from 'sql.js';
import { freeBytes, fsyncDir, isDiskFull } from './durableFiles';
import { MlflowError } from './errors';
import { encodeRecord, JournalWriter, readJournal } from './journal';
import type { Logger } from './logger';
import { applyOp, type Op, type SeriesWrite } from './ops';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema';
import { SeriesFiles } from './seriesFiles';
import { checkSnapshot, PREV_SNAPSHOT_FILE, SNAPSHOT_FILE, writeSnapshot } from './snapshot';
import { loadSqlJs, SqlDb } from './sqlite';

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

export interface RecoveryReport {
  snapshotLoaded: boolean;
  journalRecords: number;
  /** Human-readable problems that were repaired (torn tail dropped, damaged records skipped). */
  repairs: string[];
}

/** The store's newest snapshot is damaged or missing; the message says what can be recovered. */
export class StoreDamagedError extends Error {
  readonly code = 'RUNLENS_STORE_DAMAGED';
  constructor(
    message: string,
    readonly root: string,
  ) {
    super(message);
  }
}

function journalName(gen: number): string {
  return `${String(gen).padStart(8, '0')}.log`;
}

function listGens(journalDir: string): number[] {
  return fs
    .readdirSync(journalDir)
    .filter((f) => /^\d{8}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 8)))
    .sort((a, b) => a - b);
}

/** Opens a snapshot image; returns its journal generation, or why it is not a usable store. */
function openImage(SQL: SqlJsStatic, data: Uint8Array, deepCheck: boolean): { raw: Database; gen: number } | { error: string } {
  let raw: Database | undefined;
  try {
    raw = new SQL.Database(data);
    if (deepCheck) {
      const res = raw.exec('PRAGMA quick_check');
      const first = res[0]?.values[0]?.[0];
      if (first !== 'ok') throw new Error(String(first ?? 'quick_check failed'));
    }
    const row = raw.exec("SELECT value FROM meta WHERE key = 'journal_gen'")[0]?.values[0]?.[0];
    return { raw, gen: row === undefined ? 1 : Number(row) };
  } catch (err) {
    raw?.close();
    return { error: (err as Error).message };
  }
}

interface LoadedState {
  raw: Database;
  /** Generation of the snapshot loaded: the first journal replayed. */
  snapshotGen: number;
  lastGen: number;
  replayedBytes: number;
  report: RecoveryReport;
  /** Damage was found and worked around: write a fresh snapshot right away. */
  needsCheckpoint: boolean;
}

function hasSeries(dir: string): boolean {
  try {
    return fs.readdirSync(path.join(dir, 'series')).length > 0;
  } catch {
    return false;
  }
}

function describe(file: string, root: string): string {
  return path.relative(root, file) || file;
}

/** Says what a damaged store can be recovered from, for the error that stops start-up. */
function recoveryOptions(SQL: SqlJsStatic, dir: string, root: string, gens: number[]): string {
  const prev = checkSnapshot(dir, PREV_SNAPSHOT_FILE);
  const prevGen = prev.ok ? (() => {
    const opened = openImage(SQL, prev.data, false);
    if ('error' in opened) return undefined;
    opened.raw.close();
    return opened.gen;
  })() : undefined;
  let what: string;
  if (prevGen !== undefined && (gens[0] ?? prevGen) <= prevGen) {
    const when = prev.ok && prev.sum ? ` (checkpoint of ${new Date(prev.sum.time).toISOString()})` : '';
    what = `It can be rebuilt from ${describe(path.join(dir, PREV_SNAPSHOT_FILE), root)}${when} and the journal written since, losing nothing that was acknowledged.`;
  } else if (gens[0] === 1) {
    what = 'It can be rebuilt from the journal, which still holds every write since the store was created (nothing lost).';
  } else if (gens.length > 0) {
    what = `Only the journal from generation ${gens[0]} on survives: recovering keeps those writes, but everything before them is lost.`;
  } else {
    what = 'No journal or earlier snapshot survives: recovering starts an empty store (artifact files are kept).';
  }
  return `${what} To recover, run: runlens serve --recover --root ${root}  (or 'runlens doctor --root ${root}' to see the details first). The damaged file is kept beside it.`;
}

/**
 * Loads the newest good state from disk: a snapshot, then every journal record after it, skipping
 * damaged records and reporting them. Synchronous, so it can also rebuild memory after a failed
 * write before anything else runs.
 */
function loadState(SQL: SqlJsStatic, dir: string, root: string, log: Logger, series: SeriesFiles, recover: boolean): LoadedState {
  const journalDir = path.join(dir, 'journal');
  const report: RecoveryReport = { snapshotLoaded: false, journalRecords: 0, repairs: [] };
  const gens = listGens(journalDir);
  let needsCheckpoint = false;
  let base: { raw: Database; gen: number } | undefined;
  let damage: string | undefined;
  const current = checkSnapshot(dir, SNAPSHOT_FILE);
  if (current.ok) {
    const opened = openImage(SQL, current.data, current.sum === undefined);
    if ('error' in opened) damage = `${describe(current.file, root)} does not open as a database (${opened.error})`;
    else base = opened;
  } else if (!current.missing) {
    damage = `${describe(current.file, root)} is damaged: ${current.reason}`;
  } else if (gens.length === 0 ? fs.existsSync(path.join(dir, PREV_SNAPSHOT_FILE)) || hasSeries(dir) : gens[0] !== 1) {
    damage = `${describe(current.file, root)} is missing`;
  } else if (fs.existsSync(path.join(dir, PREV_SNAPSHOT_FILE))) {
    report.repairs.push(`${describe(current.file, root)} was missing; rebuilt the store from its complete journal`);
    needsCheckpoint = true;
  }
  if (damage !== undefined) {
    if (!recover) throw new StoreDamagedError(`Runlens cannot open the store at ${root}: ${damage}. Nothing has been changed. ${recoveryOptions(SQL, dir, root, gens)}`, root);
    if (current.ok || !current.missing) {
      const aside = `${current.file}.damaged-${Date.now()}`;
      fs.renameSync(current.file, aside);
      report.repairs.push(`${damage}; moved it to ${describe(aside, root)}`);
    } else {
      report.repairs.push(damage);
    }
    const prev = checkSnapshot(dir, PREV_SNAPSHOT_FILE);
    if (prev.ok) {
      const opened = openImage(SQL, prev.data, prev.sum === undefined);
      if ('raw' in opened) {
        base = opened;
        report.repairs.push(`recovered from ${describe(prev.file, root)} and the journal after it`);
      } else {
        report.repairs.push(`${describe(prev.file, root)} does not open either (${opened.error})`);
      }
    }
    if (!base) report.repairs.push('recovered from the journal alone');
    const from = base?.gen ?? 1;
    if (gens.length > 0 && gens[0]! > from) {
      report.repairs.push(`journal generations ${from}–${gens[0]! - 1} no longer exist: the writes they held are lost`);
    } else if (gens.length === 0 && !base) {
      report.repairs.push('no journal survives: the store starts empty (artifact and series files are kept)');
    }
    needsCheckpoint = true;
  }
  report.snapshotLoaded = base !== undefined;
  const raw = base?.raw ?? new SQL.Database();
  const db = new SqlDb(raw);
  try {
    // The in-memory image is not the durability layer (the journal is), so skip SQLite's own journal.
    raw.exec('PRAGMA journal_mode = MEMORY; PRAGMA case_sensitive_like = ON;');
    raw.exec(SCHEMA_SQL);
    const version = db.value("SELECT value FROM meta WHERE key = 'schema_version'");
    if (version === undefined) db.run("INSERT INTO meta VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    else if (Number(version) > SCHEMA_VERSION) {
      throw new Error(`store at ${root} was written by a newer Runlens (schema ${String(version)} > ${SCHEMA_VERSION})`);
    }
    const snapshotGen = base?.gen ?? gens[0] ?? 1;
    const replay = gens.filter((g) => g >= snapshotGen);
    let replayedBytes = 0;
    let skipped = 0;
    let firstSkip = '';
    for (let i = 0; i < replay.length; i++) {
      const file = path.join(journalDir, journalName(replay[i]!));
      const result = readJournal(file);
      replayedBytes += result.goodBytes;
      for (const record of result.records) {
        let write: SeriesWrite | undefined;
        try {
          write = applyOp(db, record as Op);
        } catch (err) {
          // Only after damage: a record that refers to what a skipped one created.
          skipped++;
          firstSkip ||= (err as Error).message;
          continue;
        }
        if (write) series.write(write);
      }
      report.journalRecords += result.records.length;
      const isLast = i === replay.length - 1;
      const damaged = [...result.damaged, ...(result.tornTail && !isLast ? [result.tornTail] : [])];
      if (damaged.length > 0) {
        const aside = `${file}.corrupt-${Date.now()}`;
        fs.copyFileSync(file, aside);
        const where = damaged.map((d) => `offset ${d.offset} (${d.length} bytes, ${d.reason})`).join(', ');
        const msg = `journal ${describe(file, root)}: skipped ${damaged.length} damaged record(s) at ${where}; kept the ${result.records.length} intact ones; a copy is in ${describe(aside, root)}`;
        report.repairs.push(msg);
        log.error(msg);
        needsCheckpoint = true;
      }
      if (result.tornTail && isLast) {
        // A write that was cut off mid-record was never acknowledged: drop it.
        fs.truncateSync(file, result.goodBytes);
        report.repairs.push(`dropped a torn record at the end of ${describe(file, root)} (${result.tornTail.reason})`);
        log.warn(`journal ${file}: dropped a torn record at offset ${result.tornTail.offset} (${result.tornTail.reason})`);
      }
    }
    if (skipped > 0) {
      const msg = `${skipped} journal record(s) could not be applied because they depend on a damaged one (first: ${firstSkip})`;
      report.repairs.push(msg);
      log.error(msg);
    }
    return { raw, snapshotGen, lastGen: Math.max(snapshotGen, ...replay), replayedBytes, report, needsCheckpoint };
  } catch (err) {
    raw.close();
    throw err;
  }
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
    const state = loadState(SQL, dir, opts.root, opts.log, series, opts.recover ?? false);
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
    const state = loadState(this.SQL, this.dir, this.opts.root, this.opts.log, this.series, false);
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
    this.series.syncAll();
    await writeSnapshot(this.dir, image, nextGen, (data) => this.checkOpens(data, nextGen));
    // store.prev.sqlite is now the snapshot that was current: keep the journal back to it.
    const keepFrom = this.snapshotGen;
    this.snapshotGen = nextGen;
    for (const gen of listGens(journalDir)) if (gen < keepFrom) fs.unlinkSync(path.join(journalDir, journalName(gen)));
    fsyncDir(journalDir);
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
    this.series.close();
    this.db.close();
  }
}
