/**
 * Which of MLflow's tables and columns an `mlflow.db` has. Every alembic revision from 2.x to
 * the newest 3.x adds some (trace previews, spans, logged models, workspaces…), so readers ask
 * instead of assuming, and read what an older database lacks as MLflow would report it (absent).
 */
import type { SqlDb } from '../../store/sqlite';

export class DbSchema {
  private readonly columns = new Map<string, Set<string>>();
  readonly revision: string | undefined;

  constructor(db: SqlDb) {
    const tables = db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    for (const { name } of tables) {
      const cols = db.all<{ name: string }>(`PRAGMA table_info(${quoteIdent(name)})`);
      this.columns.set(name, new Set(cols.map((c) => c.name)));
    }
    this.revision = this.has('alembic_version') ? ((db.value('SELECT version_num FROM alembic_version') as string | null) ?? undefined) : undefined;
  }

  has(table: string): boolean {
    return this.columns.has(table);
  }

  hasColumn(table: string, column: string): boolean {
    return this.columns.get(table)?.has(column) ?? false;
  }

  /** `column` when the table has it, else `fallback` (an SQL literal), aliased to the column name. */
  col(table: string, column: string, alias: string, fallback = 'NULL'): string {
    return `${this.hasColumn(table, column) ? `${alias}.${quoteIdent(column)}` : fallback} AS ${quoteIdent(column)}`;
  }

  /** Whether this looks like MLflow's tracking schema at all. */
  get isMlflow(): boolean {
    return this.has('experiments') && this.has('runs') && this.has('metrics');
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
