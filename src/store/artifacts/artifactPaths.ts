/**
 * Artifact path rules. Every path a client sends is relative to the artifact root and must stay
 * inside it: no `..`, no absolute paths, no NUL bytes, no backslashes (a Windows separator
 * smuggled past a POSIX check), no Runlens internals, and no symlink on the way that leads out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidParameter } from '../errors';

/** The store's own files live here; artifacts may never read or write them. */
export const INTERNAL_DIR = '.runlens';

/**
 * Normalises a client path to POSIX segments, rejecting anything that could escape the root.
 * `''` (the root itself) is allowed only when `allowRoot` is set (listing).
 */
export function normaliseArtifactPath(raw: string, allowRoot = false): string {
  // MLflow answers every path that could escape (`..`, absolute) with exactly "Invalid path"
  // (mlflow.utils.uri.validate_path_is_safe); NUL bytes and backslashes are refused the same way.
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (raw.includes('\0') || raw.includes('\\') || raw.startsWith('/') || /^[a-zA-Z]:/.test(raw) || segments.includes('..')) {
    throw invalidParameter('Invalid path');
  }
  if (segments[0] === INTERNAL_DIR) throw invalidParameter(`Invalid artifact path '${raw}': ${INTERNAL_DIR} is reserved.`);
  if (segments.length === 0 && !allowRoot) throw invalidParameter(`Invalid artifact path '${raw}': a file path is required.`);
  return segments.join('/');
}

/**
 * Resolves a normalised path under `root` and checks that the deepest part of it that exists
 * (following symlinks) is still inside `root`.
 */
export function resolveInside(root: string, rel: string): string {
  const full = path.join(root, ...rel.split('/').filter(Boolean));
  const realRoot = fs.realpathSync(root);
  let probe = full;
  for (;;) {
    let real: string | undefined;
    try {
      real = fs.realpathSync(probe);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (real !== undefined) {
      if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
        throw invalidParameter(`Invalid artifact path '${rel}': it resolves outside the artifact root.`);
      }
      return full;
    }
    const parent = path.dirname(probe);
    if (parent === probe) return full;
    probe = parent;
  }
}
