/**
 * Makes the in-memory sql.js database durable: snapshot + journal replay at start-up, journal
 * appends per write, and compacting checkpoints (export -> temp file -> fsync -> rename).
 *
 * Files under `<root>/.runlens/`:
 *   store.sqlite        last checkpoint; its meta row `journal_gen` names the first journal to replay
 *   journal/NNNNNNNN.log  write-ahead journal generations
 *   series/ab/<run>.bin   metric histories (see seriesFiles.ts)
 */
import { fsyncDir, writeSynced } from './durableFiles';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeRecord, JournalWriter, readJournal } from './journal';
import type { Logger } from './logger';
import { applyOp, type Op, type SeriesWrite } from './ops';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema';
import { SeriesFiles } from './seriesFiles';
import { loadSqlJs, SqlDb } from './sqlite';

/** Checkpoint once this many journal bytes accumulated since the last one. */
const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;

export interface PersistenceOptions {
  root: string;
  log: Logger;
  checkpointBytes?: number;
}

export interface RecoveryReport {
  snapshotLoaded: boolean;
  journalRecords: number;
  /** Human-readable problems that were repaired (torn tail dropped, corrupt journal set aside). */
  repairs: string[];
}

function journalName(gen: number): string {
  return `${String(gen).padStart(8, '0')}.log`;
}

export class Persistence {
  private checkpointing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly db: SqlDb,
    readonly series: SeriesFiles,
    private journal: JournalWriter,
    private gen: number,
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
    const snapshotFile = path.join(dir, 'store.sqlite');
    const report: RecoveryReport = { snapshotLoaded: false, journalRecords: 0, repairs: [] };

    let raw;
    if (fs.existsSync(snapshotFile)) {
      raw = new SQL.Database(fs.readFileSync(snapshotFile));
      report.snapshotLoaded = true;
    } else {
      raw = new SQL.Database();
    }
    const db = new SqlDb(raw);
    // The in-memory image is not the durability layer (the journal is), so skip SQLite's own journal.
    raw.exec('PRAGMA journal_mode = MEMORY; PRAGMA case_sensitive_like = ON;');
    raw.exec(SCHEMA_SQL);
    const version = db.value("SELECT value FROM meta WHERE key = 'schema_version'");
    if (version === undefined) db.run("INSERT INTO meta VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    else if (Number(version) > SCHEMA_VERSION) {
      throw new Error(`store at ${opts.root} was written by a newer Runlens (schema ${String(version)} > ${SCHEMA_VERSION})`);
    }
    const firstGen = Number(db.value("SELECT value FROM meta WHERE key = 'journal_gen'") ?? 1);
    const series = new SeriesFiles(path.join(dir, 'series'));

    const gens = fs
      .readdirSync(journalDir)
      .filter((f) => /^\d{8}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .filter((g) => g >= firstGen)
      .sort((a, b) => a - b);
    let lastGen = firstGen;
    let replayedBytes = 0;
    for (let i = 0; i < gens.length; i++) {
      const gen = gens[i]!;
      const file = path.join(journalDir, journalName(gen));
      const result = readJournal(file);
      replayedBytes += result.goodBytes;
      for (const record of result.records) {
        const write = applyOp(db, record as Op);
        if (write) series.write(write);
      }
      report.journalRecords += result.records.length;
      lastGen = gen;
      if (!result.problem) continue;
      const isLastFile = i === gens.length - 1;
      if (result.problem.atTail && isLastFile) {
        // A write that was cut off mid-record was never acknowledged: drop it.
        fs.truncateSync(file, result.goodBytes);
        report.repairs.push(`dropped a torn record at the end of ${file} (${result.problem.reason})`);
        opts.log.warn(`journal ${file}: dropped a torn record at offset ${result.problem.offset} (${result.problem.reason})`);
      } else {
        // Damage before the end: keep the good prefix, set the rest aside for inspection.
        const aside = `${file}.corrupt-${Date.now()}`;
        fs.copyFileSync(file, aside);
        fs.truncateSync(file, result.goodBytes);
        for (const later of gens.slice(i + 1)) {
          const f = path.join(journalDir, journalName(later));
          fs.renameSync(f, `${f}.corrupt-${Date.now()}`);
        }
        const msg =
          `journal ${file} is damaged at offset ${result.problem.offset} (${result.problem.reason}); ` +
          `replayed ${report.journalRecords} records before it and saved the rest to ${aside}`;
        report.repairs.push(msg);
        opts.log.error(msg);
        break;
      }
    }
    const journal = await JournalWriter.open(path.join(journalDir, journalName(lastGen)), replayedBytes);
    return new Persistence(db, series, journal, lastGen, dir, opts, report);
  }

  /**
   * Journals an op that has already been applied to the in-memory database. Resolves when it is
   * durable and its metric points are in the series file.
   */
  commit(op: Op, write: SeriesWrite | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const done = this.journal.append(encodeRecord(op), write ? () => this.series.write(write) : undefined);
    if (this.journal.size >= (this.opts.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES) && !this.checkpointing) {
      void this.checkpoint().catch((err: Error) => this.opts.log.error(`checkpoint failed: ${err.message}`));
    }
    return done;
  }

  get writeFailure(): Error | undefined {
    return this.journal.failed;
  }

  /** Writes a compact snapshot and drops the journal generations it covers. */
  checkpoint(): Promise<void> {
    if (!this.checkpointing) {
      this.checkpointing = this.doCheckpoint().finally(() => {
        this.checkpointing = undefined;
      });
    }
    return this.checkpointing;
  }

  private async doCheckpoint(): Promise<void> {
    const started = Date.now();
    const journalDir = path.join(this.dir, 'journal');
    const nextGen = this.gen + 1;
    const nextHandle = await JournalWriter.openNext(path.join(journalDir, journalName(nextGen)));
    // Synchronous from here to export(): the image holds exactly the ops journaled before the switch.
    const oldDrained = this.journal.switchTo(nextHandle);
    this.db.run("INSERT OR REPLACE INTO meta VALUES ('journal_gen', ?)", [String(nextGen)]);
    const image = this.db.export();
    const oldGen = this.gen;
    this.gen = nextGen;

    await oldDrained; // every op in the image is durable and its series bytes written
    this.series.syncAll();
    const snapshotFile = path.join(this.dir, 'store.sqlite');
    const tmp = `${snapshotFile}.tmp`;
    await writeSynced(tmp, 'w', image);
    await fs.promises.rename(tmp, snapshotFile);
    fsyncDir(this.dir);
    for (const f of fs.readdirSync(journalDir)) {
      if (/^\d{8}\.log$/.test(f) && Number(f.slice(0, 8)) <= oldGen) fs.unlinkSync(path.join(journalDir, f));
    }
    this.opts.log.info(`checkpoint: ${(image.length / 1e6).toFixed(1)} MB snapshot in ${Date.now() - started} ms`);
  }

  /**
   * Waits for queued writes, checkpoints (unless told not to: start-up then replays the
   * journal instead), and releases files.
   */
  async close(opts: { checkpoint?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    await this.journal.whenIdle();
    // A size-triggered checkpoint may be under way: let it finish before files are released.
    await this.checkpointing?.catch(() => undefined);
    if (!this.journal.failed && opts.checkpoint !== false) await this.checkpoint();
    this.closed = true;
    await this.journal.close();
    this.series.close();
    this.db.close();
  }
}
