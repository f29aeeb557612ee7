/** An empty MLflow database at the newest client's head revision, in sql.js, and its row writer. */
import type { Database, SqlValue, Statement } from 'sql.js';
import { loadSqlJs } from '../../../store/sqlite';
import { MLFLOW_SCHEMA } from './mlflowSchema.generated';

/** Inserts rows by table and column list, one cached prepared statement per shape. */
export class RowWriter {
  private readonly statements = new Map<string, Statement>();

  constructor(readonly db: Database) {}

  /**
   * Inserts one row; false when `ignore` skipped it. `ignore` keeps the first of rows sharing a primary key, as the source may
   * hold exact duplicates (the same metric point logged twice) that MLflow's key folds into one.
   */
  insert(table: string, row: Record<string, SqlValue | undefined>, ignore = false): boolean {
    const cols = Object.keys(row).filter((c) => row[c] !== undefined);
    const sql = `INSERT ${ignore ? 'OR IGNORE ' : ''}INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    try {
      s.run(cols.map((c) => row[c] as SqlValue));
      return this.db.getRowsModified() > 0;
    } catch (err) {
      throw new Error(`writing ${table}: ${(err as Error).message}`);
    }
  }

  /** Runs `fn` in one transaction (sql.js commits each statement on its own otherwise, far slower); a throw ends the export. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
  }
}

/** A fresh database holding MLflow's schema, its alembic revision and the rows an empty store has. */
export async function createMlflowDb(): Promise<Database> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  try {
    db.exec('PRAGMA foreign_keys = OFF');
    // The image lives in sql.js' in-memory file system and is written out once at the end, and a
    // failed export discards it whole: a rollback journal and a small page cache would only copy
    // pages around that in-memory file on every commit (measured: over half of an export's time).
    db.exec('PRAGMA journal_mode = OFF');
    db.exec('PRAGMA synchronous = OFF');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA cache_size = -262144');
    db.exec('BEGIN');
    for (const statement of MLFLOW_SCHEMA.statements) db.exec(statement);
    db.run('INSERT INTO alembic_version (version_num) VALUES (?)', [MLFLOW_SCHEMA.alembicRevision]);
    for (const seed of MLFLOW_SCHEMA.seed) {
      const sql = `INSERT INTO "${seed.table}" (${seed.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${seed.columns.map(() => '?').join(', ')})`;
      for (const r of seed.rows) db.run(sql, r);
    }
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
