/**
 * Which kind of MLflow store a path is, from a few file reads. Kept apart from the readers so
 * the extension can discover stores without bundling sql.js. A Runlens store root (it has
 * `.runlens/`) is never taken for MLflow's file store, even though both may be called `mlruns`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type MlflowStoreKind = 'mlflow.db' | 'mlruns';

const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');
/** What marks a folder as Runlens's own store. */
export const RUNLENS_MARKER = '.runlens';

/** `mlflow.db` for an SQLite file, `mlruns` for a legacy file-store folder, else undefined. */
export function detectMlflowStore(p: string): MlflowStoreKind | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return undefined;
  }
  if (stat.isFile()) return hasSqliteHeader(p) ? 'mlflow.db' : undefined;
  if (!stat.isDirectory() || fs.existsSync(path.join(p, RUNLENS_MARKER))) return undefined;
  return isFileStore(p) ? 'mlruns' : undefined;
}

function hasSqliteHeader(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

/** An experiment folder (`<id>/meta.yaml` with an `experiment_id`), a `.trash/`, or a `models/` registry. */
function isFileStore(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (e.name === 'models' && registryFolder(path.join(dir, e.name))) return true;
    if ((e.name === '.trash' || /^\d+$/.test(e.name)) && experimentMeta(path.join(dir, e.name))) return true;
  }
  return false;
}

function experimentMeta(dir: string): boolean {
  if (path.basename(dir) === '.trash') return fs.readdirSync(dir).some((n) => /^\d+$/.test(n) && experimentMeta(path.join(dir, n)));
  try {
    return /^experiment_id:/m.test(fs.readFileSync(path.join(dir, 'meta.yaml'), 'utf8'));
  } catch {
    return false;
  }
}

/** `models/<name>/meta.yaml` with a `name:` — a registered model of the file store's registry. */
function registryFolder(dir: string): boolean {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && /^name:/m.test(readOr(path.join(dir, e.name, 'meta.yaml'))));
  } catch {
    return false;
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
