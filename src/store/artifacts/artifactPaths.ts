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
  if (raw.includes('\0')) throw invalidParameter(`Invalid artifact path '${raw.replace(/\0/g, '\\0')}': NUL bytes are not allowed.`);
  if (raw.includes('\\')) throw invalidParameter(`Invalid artifact path '${raw}': backslashes are not allowed.`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw invalidParameter(`Invalid artifact path '${raw}': absolute paths are not allowed.`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw invalidParameter(`Invalid artifact path '${raw}': '..' is not allowed.`);
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

/** `%xx` unescaping as Python's `urllib.parse.unquote` does it: bad escapes stay as they are. */
function unquote(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.from(run.replace(/%/g, ''), 'hex');
    return bytes.toString('utf8');
  });
}

/**
 * MLflow's `validate_path_is_safe`, which every artifact download and upload route applies to
 * its `path` parameter before anything else: the path is %-decoded until stable, control
 * characters are escaped, and a `#`, a `..` segment or an absolute (POSIX or Windows, incl. a
 * `file:` URI) path is refused with 400 "Invalid path". Returns the decoded path, which MLflow
 * uses from then on. The store's own checks (`normaliseArtifactPath`) still apply after this.
 */
export function validateRequestPath(raw: string): string {
  let p = raw;
  for (let i = 0; ; i++) {
    const next = unquote(p);
    if (next === p) break;
    if (i === 9) throw invalidParameter('Invalid path');
    p = next;
  }
  // eslint-disable-next-line no-control-regex
  p = p.replace(/[\x00-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (p.includes('#')) throw invalidParameter('Invalid path');
  let local = p;
  const file = /^file:(?:\/\/[^/]*)?(.*)$/i.exec(p);
  if (file) local = file[1]!;
  const windowsAbsolute = /^[A-Za-z]:[\\/]/.test(local) || /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.test(local);
  if (local.split('/').includes('..') || local.startsWith('/') || windowsAbsolute) throw invalidParameter('Invalid path');
  return local;
}
