/** The shape of the generated MLflow schema module (scripts/gen-mlflow-schema.py). */
export interface MlflowSchema {
  /** The mlflow release whose empty database was dumped. */
  mlflowVersion: string;
  /** Its head alembic revision: `mlflow server` opens a database at this revision without migrating. */
  alembicRevision: string;
  /** Every `sqlite_master` statement: tables, then indexes, then triggers. */
  statements: string[];
  /** Rows an empty MLflow store already holds (e.g. the default workspace). */
  seed: { table: string; columns: string[]; rows: (string | number | null)[][] }[];
}
