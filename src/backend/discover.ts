/**
 * Existing MLflow stores in a folder, found with no setup: the `mlflow.db` MLflow ≥ 3.7 creates
 * by default, a legacy `mlruns/` file store, the store a `.env` file's `MLFLOW_TRACKING_URI`
 * names, and any paths the user configured. Each is offered read-only beside Runlens's own store.
 * Remote (`http(s)://`) tracking URIs are reported separately: they are servers, not files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FoundStoreKind = 'mlflow.db' | 'mlruns';

export interface FoundStore {
  kind: FoundStoreKind;
  /** Absolute path of the database file or the file-store folder. */
  path: string;
  /** How it was found, for the tree's tooltip. */
  via: 'workspace' | '.env' | 'setting';
}

export interface Discovery {
  stores: FoundStore[];
  /** `http(s)://` tracking URIs named in `.env` (for the remote-server view). */
  servers: string[];
}

/** Tells what a path holds; the readers of MLflow's formats provide it. */
export type StoreDetector = (p: string) => FoundStoreKind | undefined;

/** `MLFLOW_TRACKING_URI` from a dotenv file: `KEY=value`, optional `export `, quotes, `#` comments. */
export function trackingUriFromDotenv(text: string): string | undefined {
  let found: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^(?:export\s+)?MLFLOW_TRACKING_URI\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[1]!.trim();
    const quoted = /^(['"])(.*?)\1/.exec(value);
    if (quoted) value = quoted[2]!;
    else value = value.replace(/\s+#.*$/, '');
    if (value) found = value; // the last assignment wins, as dotenv loaders do
  }
  return found;
}

/**
 * The local path a tracking URI names, relative paths against `baseDir`: `sqlite:///rel.db`
 * (three slashes: relative), `sqlite:////abs.db` (four: absolute), `file:///abs`, or a plain path.
 */
export function localPathOfUri(uri: string, baseDir: string): string | undefined {
  const sqlite = /^sqlite:\/\/\/(.*)$/.exec(uri);
  if (sqlite) return path.resolve(baseDir, decodeURIComponent(sqlite[1]!.replace(/\?.*$/, '')));
  if (/^file:\/\//.test(uri)) {
    try {
      return new URL(uri).pathname;
    } catch {
      return undefined;
    }
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(uri)) return undefined;
  return path.resolve(baseDir, uri);
}

export function discoverStores(folder: string, detect: StoreDetector, configured: string[] = []): Discovery {
  const stores: FoundStore[] = [];
  const servers: string[] = [];
  const seen = new Set<string>();
  const add = (p: string | undefined, via: FoundStore['via']): void => {
    if (!p) return;
    const abs = path.resolve(folder, p);
    if (seen.has(abs)) return;
    const kind = detect(abs);
    if (!kind) return;
    seen.add(abs);
    stores.push({ kind, path: abs, via });
  };
  for (const p of configured) add(localPathOfUri(p, folder), 'setting');
  const dotenv = readText(path.join(folder, '.env'));
  const uri = dotenv === undefined ? undefined : trackingUriFromDotenv(dotenv);
  if (uri && /^https?:\/\//i.test(uri)) servers.push(uri);
  else if (uri) add(localPathOfUri(uri, folder), '.env');
  add(path.join(folder, 'mlflow.db'), 'workspace');
  add(path.join(folder, 'mlruns'), 'workspace');
  return { stores, servers };
}

function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}
