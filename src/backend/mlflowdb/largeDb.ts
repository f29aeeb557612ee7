/**
 * Opening an `mlflow.db` larger than sql.js can hold: every table but `metrics` (the history, with
 * its indexes nearly the whole file) is copied into an in-memory sql.js database with the file's
 * own schema, and histories are read from the file a run at a time through its `run_uuid` index.
 */
import * as fs from 'node:fs';
import type { SqlValue } from 'sql.js';
import { loadSqlJs, placeholders, SqlDb } from '../../store/sqlite';
import type { Metric } from '../../domain/types';
import { stamp, walIndex } from './dbImage';
import { quoteIdent } from './dbSchema';
import { SqliteFile, type SchemaRow } from './sqliteFile';

const HISTORY_TABLE = 'metrics';
const HISTORY_BATCH = 10_000;

export interface LargeDb {
  db: SqlDb;
  history: (runId: string) => Generator<Metric[]>;
  close: () => void;
  walFrames: number;
}

export async function openLargeDb(file: string): Promise<LargeDb> {
  let wal: Buffer | undefined;
  try {
    wal = fs.readFileSync(`${file}-wal`);
  } catch {
    wal = undefined;
  }
  const walPages = wal && wal.length > 0 ? walIndex(wal) : undefined;
  const opened = stamp(file);
  const sqlite = SqliteFile.open(file, walPages);
  const SQL = await loadSqlJs();
  const db = new SqlDb(new SQL.Database());
  try {
    // A scratch copy: no rollback journal to write beside it, and pages kept in cache while copying.
    db.raw.run('PRAGMA journal_mode = OFF');
    db.raw.run('PRAGMA cache_size = -262144');
    const schema = sqlite.schema();
    const tables = schema.filter((r) => r.type === 'table' && r.sql !== null && !r.name.startsWith('sqlite_'));
    for (const t of tables) db.raw.run(t.sql!);
    for (const t of tables) if (t.name !== HISTORY_TABLE) copyTable(sqlite, db, t);
    for (const i of schema) if (i.type === 'index' && i.sql !== null && i.tblName !== HISTORY_TABLE) db.raw.run(i.sql);
    // Pages are read as they are needed, not copied: a write to the file since opening would mix
    // two versions of the database, so it ends the reading instead.
    const unchanged = (): void => {
      if (stamp(file) !== opened) throw new Error(`${file} changed while it was being read; open it again to read the new version.`);
    };
    unchanged();
    const read = historyReader(sqlite, db, schema);
    const history = function* (runId: string): Generator<Metric[]> {
      unchanged();
      yield* read(runId);
    };
    return { db, history, close: () => sqlite.close(), walFrames: walPages?.frames ?? 0 };
  } catch (err) {
    db.close();
    sqlite.close();
    throw err;
  }
}

interface Column {
  name: string;
  type: string;
  pk: number;
  /** 2: a VIRTUAL generated column (not in the record), 3: a STORED one (in it, but not insertable). */
  hidden: number;
}

/** The columns a record holds, in record order. */
function columns(db: SqlDb, table: string): Column[] {
  return db.all<Column>(`PRAGMA table_xinfo(${quoteIdent(table)})`).filter((c) => c.hidden !== 2);
}

/**
 * Rows as stored: a record may have fewer values than the table has columns (columns added later
 * by ALTER TABLE take their defaults), and an INTEGER PRIMARY KEY is the rowid, stored as NULL.
 */
function copyTable(sqlite: SqliteFile, db: SqlDb, t: SchemaRow): void {
  if (/without\s+rowid/i.test(t.sql ?? '')) throw new Error(`table ${t.name} is WITHOUT ROWID, which this reader does not read`);
  const cols = columns(db, t.name);
  const pks = cols.filter((c) => c.pk > 0);
  const rowidAlias = pks.length === 1 && pks[0]!.type.toUpperCase() === 'INTEGER' ? cols.indexOf(pks[0]!) : -1;
  const inserts = new Map<number, string>();
  db.transaction(() => {
    for (const [rowid, values] of sqlite.scanTable(t.rootPage)) {
      if (rowidAlias >= 0 && (values[rowidAlias] === null || values[rowidAlias] === undefined)) values[rowidAlias] = rowid;
      const n = Math.min(values.length, cols.length);
      const keep = cols.slice(0, n).map((c, i) => (c.hidden === 3 ? -1 : i)).filter((i) => i >= 0);
      let sql = inserts.get(n);
      if (!sql) {
        sql = `INSERT INTO ${quoteIdent(t.name)} (${keep.map((i) => quoteIdent(cols[i]!.name)).join(', ')}) VALUES (${placeholders(keep.length)})`;
        inserts.set(n, sql);
      }
      db.run(sql, keep.map((i) => values[i]!));
    }
  });
}

function historyReader(sqlite: SqliteFile, db: SqlDb, schema: SchemaRow[]): (runId: string) => Generator<Metric[]> {
  const table = schema.find((r) => r.type === 'table' && r.name === HISTORY_TABLE);
  if (!table) return function* () {};
  const cols = columns(db, HISTORY_TABLE).map((c) => c.name);
  const at = (name: string): number => cols.indexOf(name);
  const [key, value, timestamp, step, isNan, runUuid] = ['key', 'value', 'timestamp', 'step', 'is_nan', 'run_uuid'].map(at) as [number, number, number, number, number, number];
  const metric = (v: SqlValue[]): Metric => ({
    key: String(v[key]),
    value: isNan >= 0 && v[isNan] ? NaN : Number(v[value]),
    timestamp: Number(v[timestamp] ?? 0),
    step: step >= 0 ? Number(v[step] ?? 0) : 0,
  });
  // MLflow's `index_metrics_run_uuid` (run_uuid) or 3.x's (run_uuid, key, step): any index led by run_uuid.
  const index = schema.find((r) => r.type === 'index' && r.tblName === HISTORY_TABLE && r.sql !== null && /\(\s*"?run_uuid"?\s*[,)]/i.test(r.sql));
  return function* (runId: string): Generator<Metric[]> {
    let batch: Metric[] = [];
    const take = (v: SqlValue[]): Metric[] | undefined => {
      batch.push(metric(v));
      if (batch.length < HISTORY_BATCH) return undefined;
      const full = batch;
      batch = [];
      return full;
    };
    if (index) {
      for (const rowid of sqlite.indexEquals(index.rootPage, runId)) {
        const v = sqlite.row(table.rootPage, rowid);
        const full = v && take(v);
        if (full) yield full;
      }
    } else {
      for (const [, v] of sqlite.scanTable(table.rootPage)) {
        const full = v[runUuid] === runId ? take(v) : undefined;
        if (full) yield full;
      }
    }
    if (batch.length > 0) yield batch;
  };
}
