/** `runlens export`: a Runlens store written as an `mlflow.db` for the newest MLflow. */
import { chooseStoreRoot } from './backend/storeRoot';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from './domain/logger';
import { LocalStore } from './store/localStore';
import { readLockOwner, StoreLock, StoreLockedError } from './store/storeLock';
import { StoreSource } from './backend/transfer/storeSource';
import { exportToMlflowDb, formatSummary } from './backend/mlflowdb/export/exportToDb';
import { MLFLOW_SCHEMA } from './backend/mlflowdb/export/mlflowSchema.generated';

export const EXPORT_HELP = `Usage: runlens export --to sqlite:///PATH/mlflow.db [--artifacts DIR] [--root DIR] [--force]

Write a Runlens store as an mlflow.db that MLflow ${MLFLOW_SCHEMA.mlflowVersion} opens as it is (alembic
revision ${MLFLOW_SCHEMA.alembicRevision}): experiments, runs with full metric histories, datasets,
registered models, logged models, traces with spans and assessments.

Options:
  --to <uri>         the database to write: sqlite:///relative/path.db or sqlite:////absolute/path.db
                     (MLflow's spelling), or a plain file path
  --artifacts <dir>  also copy every run's and logged model's artifacts into <dir>, laid out as
                     mlflow server lays out its artifact root (<experiment_id>/<run_id>/artifacts,
                     <experiment_id>/models/<model_id>/artifacts). The exported rows then point at
                     the copies with absolute file:// URIs, so 'mlflow server --backend-store-uri
                     sqlite:///PATH/mlflow.db' shows and downloads them with or without
                     --artifacts-destination, and so does a client opening the file directly.
                     Keep <dir> where it is (moving it means exporting again). Without this option
                     the rows keep Runlens' mlflow-artifacts:/ URIs, which resolve when mlflow server
                     runs with --artifacts-destination <the Runlens store directory>.
  --root <dir>       the Runlens store to export (default ./mlruns)
  --force            replace an existing database file and existing files under --artifacts

The store must not be in use: stop the Runlens server (or VS Code window) that owns it first.
Export reads the store's files, and taking the store's lock for the whole export is what makes
the result one consistent snapshot (a server could otherwise append while it is read).
`;

export class CliError extends Error {}

interface ExportArgs {
  to: string;
  root: string;
  artifacts?: string;
  force: boolean;
}

function parseArgs(argv: string[]): ExportArgs | 'help' {
  let to: string | undefined;
  let root = '';
  let artifacts: string | undefined;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new CliError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--to') to = value();
    else if (flag === '--root') root = value();
    else if (flag === '--artifacts') artifacts = value();
    else if (flag === '--force') force = true;
    else if (flag === '-h' || flag === '--help') return 'help';
    else throw new CliError(`unknown option '${a}'. See 'runlens export --help'.`);
  }
  if (to === undefined) throw new CliError("missing --to (e.g. --to sqlite:///out/mlflow.db). See 'runlens export --help'.");
  return { to, root, force, ...(artifacts !== undefined ? { artifacts } : {}) };
}

/** MLflow's `sqlite:///rel.db` / `sqlite:////abs.db`, or a plain path, as an absolute path. */
export function sqliteUriPath(uri: string): string {
  if (!uri.startsWith('sqlite:')) {
    if (/^[a-zA-Z][\w+.-]*:\/\//.test(uri)) throw new CliError(`cannot export to '${uri}': only sqlite:/// databases (or a file path) are supported`);
    return path.resolve(uri);
  }
  const m = /^sqlite:\/\/\/(.+)$/.exec(uri);
  if (!m) throw new CliError(`invalid database URI '${uri}': use sqlite:///relative/path.db or sqlite:////absolute/path.db`);
  return path.resolve(decodeURIComponent(m[1]!.split('?')[0]!));
}

function quietLogger(): Logger {
  const warn = (m: string): void => void process.stderr.write(`runlens: ${m}\n`);
  return { debug: () => undefined, info: () => undefined, warn, error: warn };
}

export async function runExport(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === 'help') {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  const file = sqliteUriPath(args.to);
  // Default as serve's: ./mlruns, or ./.runlens-store when ./mlruns holds MLflow's own data.
  const root = args.root ? path.resolve(args.root) : chooseStoreRoot(process.cwd()).root;
  if (!fs.existsSync(path.join(root, '.runlens'))) throw new CliError(`no Runlens store at ${root} (give its directory with --root)`);
  if (!args.force && fs.existsSync(file)) throw new CliError(`${file} already exists; pass --force to replace it.`);
  const artifactsDir = args.artifacts === undefined ? undefined : path.resolve(args.artifacts);
  if (artifactsDir !== undefined && (artifactsDir === root || artifactsDir.startsWith(root + path.sep))) {
    throw new CliError(`--artifacts ${artifactsDir} is inside the store being exported; pick a directory outside ${root}`);
  }

  let lock: StoreLock;
  try {
    lock = StoreLock.acquire(root);
  } catch (err) {
    if (!(err instanceof StoreLockedError)) throw err;
    const owner = readLockOwner(root) ?? err.owner;
    throw new CliError(
      `the store at ${root} is in use by process ${owner.pid}${owner.url ? ` (serving ${owner.url})` : ''}. ` +
        'Stop that Runlens server or VS Code window, then run the export again: exporting while it writes could capture a half-made change.',
    );
  }
  try {
    const store = await LocalStore.open({ root, log: quietLogger() });
    try {
      const source = new StoreSource(store, root);
      const summary = await exportToMlflowDb(source, { file, artifactsDir, force: args.force });
      for (const s of summary.skipped) process.stderr.write(`runlens: skipped ${s}\n`);
      process.stdout.write(`${formatSummary(summary)}\n`);
    } finally {
      // No snapshot on close: an export leaves the store's files as they were.
      await store.close({ checkpoint: false });
    }
  } finally {
    lock.release();
  }
  return 0;
}
