/**
 * Loading a store's state from its files: the newest good snapshot, then every journal record
 * after it, skipping damaged records and saying exactly what was skipped. Used at start-up, to
 * rebuild memory after a failed write, and (without touching any file) by `runlens doctor`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { readJournal } from './journal';
import type { Logger } from '../domain/logger';
import { applyOp, type Op, type SeriesWrite } from './ops';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema';
import { checkSnapshot, PREV_SNAPSHOT_FILE, SNAPSHOT_FILE } from './snapshot';
import { isSideAppend, type SideSink } from './sideFiles';
import { SqlDb } from './sqlite';

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

export interface RecoveryReport {
  snapshotLoaded: boolean;
  journalRecords: number;
  /** Human-readable problems that were repaired (torn tail dropped, damaged records skipped). */
  repairs: string[];
}

export interface LoadOptions {
  /** Start even though the newest snapshot is damaged or missing. */
  recover: boolean;
  /** Change no file (runlens doctor): damage is only reported. */
  dryRun?: boolean;
  /** Where replayed side-file appends go (see sideFiles.ts); left out, they are only skipped. */
  side?: SideSink;
}

/** Where replayed metric points go (the series files; nowhere for a dry run). */
export interface SeriesSink {
  write(w: SeriesWrite): void;
}

export function journalName(gen: number): string {
  return `${String(gen).padStart(8, '0')}.log`;
}

export function listGens(journalDir: string): number[] {
  return fs
    .readdirSync(journalDir)
    .filter((f) => /^\d{8}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 8)))
    .sort((a, b) => a - b);
}

/** Opens a snapshot image; returns its journal generation, or why it is not a usable store. */
export function openImage(SQL: SqlJsStatic, data: Uint8Array, deepCheck: boolean): { raw: Database; gen: number } | { error: string } {
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

export interface LoadedState {
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

/** Schema and session pragmas on a database image; refuses an image from a newer Runlens. */
function prepareSchema(raw: Database, db: SqlDb, root: string): void {
  // The in-memory image is not the durability layer (the journal is), so skip SQLite's own journal.
  raw.exec('PRAGMA journal_mode = MEMORY; PRAGMA case_sensitive_like = ON;');
  raw.exec(SCHEMA_SQL);
  const version = db.value("SELECT value FROM meta WHERE key = 'schema_version'");
  if (version === undefined) db.run("INSERT INTO meta VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
  else if (Number(version) > SCHEMA_VERSION) {
    throw new Error(`store at ${root} was written by a newer Runlens (schema ${String(version)} > ${SCHEMA_VERSION})`);
  }
}

/** The image of a store with nothing in it yet, built in memory without touching any file. */
export function emptyState(SQL: SqlJsStatic): Database {
  const raw = new SQL.Database();
  prepareSchema(raw, new SqlDb(raw), '(new store)');
  return raw;
}

/**
 * Loads the newest good state from disk: a snapshot, then every journal record after it, skipping
 * damaged records and reporting them. Synchronous, so it can also rebuild memory after a failed
 * write before anything else runs.
 */
export function loadState(SQL: SqlJsStatic, dir: string, root: string, log: Logger, series: SeriesSink, opts: LoadOptions): LoadedState {
  const { recover, dryRun = false } = opts;
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
    if (dryRun) {
      report.repairs.push(damage);
    } else if (current.ok || !current.missing) {
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
    prepareSchema(raw, db, root);
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
        if (isSideAppend(record)) {
          if (!dryRun) opts.side?.replay(record);
          continue;
        }
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
        if (!dryRun) fs.copyFileSync(file, aside);
        const where = damaged.map((d) => `offset ${d.offset} (${d.length} bytes, ${d.reason})`).join(', ');
        const kept = dryRun ? '' : `; a copy is in ${describe(aside, root)}`;
        const msg = `journal ${describe(file, root)}: skipped ${damaged.length} damaged record(s) at ${where}; kept the ${result.records.length} intact ones${kept}`;
        report.repairs.push(msg);
        log.error(msg);
        needsCheckpoint = true;
      }
      if (result.tornTail && isLast) {
        // A write that was cut off mid-record was never acknowledged: drop it.
        if (!dryRun) fs.truncateSync(file, result.goodBytes);
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
