/** A thin typed layer over sql.js: cached prepared statements, savepoint transactions. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue, type Statement } from 'sql.js';

export type Row = Record<string, SqlValue>;
export type Params = SqlValue[];

/** `?, ?, ?` for an `IN (...)` list of `n` bound values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Loads the sql.js WASM once per process; the bundled CLI ships the .wasm beside itself. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  if (!sqlJs) {
    const bundled = path.join(__dirname, 'sql-wasm.wasm');
    // Unbundled (tests), resolve from node_modules; the indirection keeps esbuild from inlining it.
    const resolve: (id: string) => string = require.resolve;
    const wasmPath = fs.existsSync(bundled) ? bundled : resolve('sql.js/dist/sql-wasm.wasm');
    sqlJs = initSqlJs({ wasmBinary: fs.readFileSync(wasmPath) as unknown as ArrayBuffer });
  }
  return sqlJs;
}

/**
 * A sql.js database file lives in the process's memory and one connection owns it, so SQLite's
 * lock can be held for good: that skips the hot-journal check every autocommit statement makes
 * otherwise (a path lookup and stat through the WASM file system), about 11 us of a 12 us point
 * query. export() (a backup into another file) and the savepoints are unaffected.
 */
function ownFile(db: Database): Database {
  db.exec('PRAGMA locking_mode = EXCLUSIVE');
  return db;
}

/** Search SQL varies with the filter's shape: keep the prepared-statement cache bounded. */
const MAX_CACHED_STATEMENTS = 256;

export class SqlDb {
  private readonly statements = new Map<string, Statement>();
  private depth = 0;

  /** SQL functions defined in JS; a replacement database gets them too. */
  private readonly functions = new Map<string, (...args: never[]) => unknown>();

  constructor(private current: Database) {
    ownFile(current);
  }

  /** Defines (or redefines) a scalar SQL function implemented in JS. */
  defineFunction(name: string, fn: (...args: never[]) => unknown): void {
    this.functions.set(name, fn);
    this.current.create_function(name, fn as (...args: unknown[]) => unknown as never);
  }

  get raw(): Database {
    return this.current;
  }

  /** Swaps in another database (rebuilt from disk after a failed write); the old one is closed. */
  replaceWith(next: Database): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    const old = this.current;
    this.current = ownFile(next);
    for (const [name, fn] of this.functions) next.create_function(name, fn as (...args: unknown[]) => unknown as never);
    old.close();
  }

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s) {
      // Most recently used last, so the first entry is the one to evict.
      this.statements.delete(sql);
      this.statements.set(sql, s);
      return s;
    }
    s = this.raw.prepare(sql);
    this.statements.set(sql, s);
    if (this.statements.size > MAX_CACHED_STATEMENTS) {
      const [oldest, stmt] = this.statements.entries().next().value as [string, Statement];
      this.statements.delete(oldest);
      stmt.free();
    }
    return s;
  }

  /** Runs a statement that returns no rows. */
  run(sql: string, params: Params = []): void {
    const s = this.stmt(sql);
    try {
      s.bind(params);
      s.step();
    } finally {
      s.reset();
    }
  }

  /** Rows as objects keyed by column name. */
  all<T = Row>(sql: string, params: Params = []): T[] {
    const s = this.stmt(sql);
    const rows: T[] = [];
    try {
      s.bind(params);
      while (s.step()) rows.push(s.getAsObject() as T);
    } finally {
      s.reset();
    }
    return rows;
  }

  /** Rows as positional arrays: cheaper than objects for large scans. */
  rows(sql: string, params: Params = []): SqlValue[][] {
    const s = this.stmt(sql);
    const rows: SqlValue[][] = [];
    try {
      s.bind(params);
      while (s.step()) rows.push(s.get());
    } finally {
      s.reset();
    }
    return rows;
  }

  get<T = Row>(sql: string, params: Params = []): T | undefined {
    const s = this.stmt(sql);
    try {
      s.bind(params);
      return s.step() ? (s.getAsObject() as T) : undefined;
    } finally {
      s.reset();
    }
  }

  /** One scalar value (first column of the first row). */
  value(sql: string, params: Params = []): SqlValue | undefined {
    const s = this.stmt(sql);
    try {
      s.bind(params);
      return s.step() ? s.get()[0] : undefined;
    } finally {
      s.reset();
    }
  }

  /** All-or-nothing: a throw inside `fn` rolls back everything it wrote. Nests via savepoints. */
  transaction<T>(fn: () => T): T {
    const name = `sp${this.depth++}`;
    this.raw.exec(`SAVEPOINT ${name}`);
    try {
      const result = fn();
      this.raw.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      this.raw.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw err;
    } finally {
      this.depth--;
    }
  }

  /** Serialises the whole database image (blocks ~1-2 ms per MB). */
  export(): Uint8Array {
    // export() cannot run with statements mid-iteration; all of ours are reset after use.
    return this.raw.export();
  }

  close(): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    this.raw.close();
  }
}
