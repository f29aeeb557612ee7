/**
 * Where Runlens keeps its own store in a folder, without ever writing into another tool's store.
 *
 * The default is `<folder>/mlruns`, which is where MLflow users look for tracking data. But that
 * is also the name of MLflow's legacy file store, and of the artifact folder `mlflow ui` keeps
 * beside an `mlflow.db`. So `mlruns/` is Runlens's only while it is missing, empty, or already a
 * Runlens store (it has the `.runlens/` state folder); otherwise Runlens uses `.runlens-store/`
 * beside it, and the other store is offered read-only with an import action. An explicitly
 * configured path is taken as given (a foreign store there is served read-only, never written).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_STORE_DIR = 'mlruns';
/** Where Runlens's store goes when `mlruns/` belongs to MLflow. */
export const FALLBACK_STORE_DIR = '.runlens-store';
/** The state folder inside every Runlens store root (journal, snapshots, series). */
export const RUNLENS_STATE_DIR = '.runlens';

export function isRunlensStore(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, RUNLENS_STATE_DIR)).isDirectory();
  } catch {
    return false;
  }
}

/** A folder that exists, holds something, and is not a Runlens store: another tool's data. */
export function isForeignFolder(dir: string): boolean {
  let entries: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) return true;
    entries = fs.readdirSync(dir);
  } catch {
    return false; // missing: free to create
  }
  if (entries.includes(RUNLENS_STATE_DIR)) return false;
  // Files the OS or editors drop everywhere do not make a folder someone else's.
  return entries.some((e) => !['.DS_Store', 'Thumbs.db', '.gitkeep', '.gitignore'].includes(e));
}

export interface StoreRootChoice {
  root: string;
  /** Set when the default `mlruns/` belongs to another tool and Runlens moved aside. */
  displaced?: string;
}

/**
 * The store root for a folder. `configured` is a path (relative to `baseDir`) the user chose;
 * undefined means the default.
 */
export function chooseStoreRoot(baseDir: string, configured?: string): StoreRootChoice {
  if (configured !== undefined && configured !== '' && configured !== DEFAULT_STORE_DIR) {
    return { root: path.resolve(baseDir, configured) };
  }
  const preferred = path.resolve(baseDir, DEFAULT_STORE_DIR);
  if (!isForeignFolder(preferred)) return { root: preferred };
  return { root: path.resolve(baseDir, FALLBACK_STORE_DIR), displaced: preferred };
}
