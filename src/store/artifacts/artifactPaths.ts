/**
 * Artifact path rules. Every path a client sends is relative to the artifact root and must stay
 * inside it: no `..`, no absolute paths, no NUL bytes, no backslashes (a Windows separator
 * smuggled past a POSIX check), no Runlens internals, and no symlink on the way that leads out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidParameter } from '../../domain/errors';

/** The store's own files live here; artifacts may never read or write them. */
export const INTERNAL_DIR = '.runlens';

/** Longest path segment most file systems accept (bytes of UTF-8). */
export const MAX_SEGMENT_BYTES = 255;
/** Longest relative artifact path accepted (bytes); the store root's own length comes on top. */
export const MAX_ARTIFACT_PATH_BYTES = 3000;

/**
 * Whether a path segment names the store's state dir on some file system: compared
 * case-insensitively (macOS, Windows) and without the trailing dots and spaces Windows drops.
 */
export function isInternalName(segment: string): boolean {
  return foldCase(segment.replace(/[. ]+$/, '')) === INTERNAL_DIR;
}

/** Case folding as case-insensitive file systems do it: also 'ſ' (long s) → 's', which toLowerCase() keeps. */
function foldCase(text: string): string {
  return text.toUpperCase().toLowerCase();
}

/**
 * Normalises a client path to POSIX segments, rejecting anything that could escape the root.
 * `''` (the root itself) is allowed only when `allowRoot` is set (listing). Messages name the
 * path as the client sent it, never where it lives on disk.
 */
export function normaliseArtifactPath(raw: string, allowRoot = false): string {
  // MLflow answers every path that could escape (`..`, absolute) with exactly "Invalid path"
  // (mlflow.utils.uri.validate_path_is_safe); NUL bytes and backslashes are refused the same way.
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (raw.includes('\0') || raw.includes('\\') || raw.startsWith('/') || /^[a-zA-Z]:/.test(raw) || segments.includes('..')) {
    throw invalidParameter('Invalid path');
  }
  if (segments.length > 0 && isInternalName(segments[0]!)) throw invalidParameter(`Invalid artifact path '${raw}': ${INTERNAL_DIR} is reserved.`);
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    throw invalidParameter(`Invalid artifact path '${shown(raw)}': a path segment is longer than ${MAX_SEGMENT_BYTES} bytes.`);
  }
  const rel = segments.join('/');
  if (Buffer.byteLength(rel) > MAX_ARTIFACT_PATH_BYTES) throw invalidParameter(`Invalid artifact path '${shown(raw)}': longer than ${MAX_ARTIFACT_PATH_BYTES} bytes.`);
  if (segments.length === 0 && !allowRoot) throw invalidParameter(`Invalid artifact path '${raw}': a file path is required.`);
  return rel;
}

/** A client path short enough to quote in an error message. */
function shown(raw: string): string {
  return raw.length > 200 ? `${raw.slice(0, 100)}…${raw.slice(-60)}` : raw;
}

function isUnder(real: string, dir: string): boolean {
  return real === dir || real.startsWith(dir + path.sep);
}

/**
 * Resolves a normalised path under `root` and checks where the deepest part of it that exists
 * really is (symlinks followed): it must be inside `root` and outside the state dir
 * (`<root>/.runlens`, compared case-insensitively, so `.RUNLENS` on a case-insensitive file
 * system and a symlink planted in the store that points at the state dir are refused alike).
 */
export function resolveInside(root: string, rel: string): string {
  const full = path.join(root, ...rel.split('/').filter(Boolean));
  // The native realpath gives the name as stored on disk: its letter case on macOS and Windows,
  // and long names for Windows' 8.3 short ones (RUNLEN~1).
  let realRoot: string;
  try {
    realRoot = fs.realpathSync.native(root);
  } catch (err) {
    // A lazy store not created yet: nothing under it exists, so nothing can point outside it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return full;
    throw err;
  }
  const internal = foldCase(path.join(realRoot, INTERNAL_DIR));
  let probe = full;
  for (;;) {
    let real: string | undefined;
    try {
      real = fs.realpathSync.native(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENAMETOOLONG') throw invalidParameter(`Invalid artifact path '${shown(rel)}': the path is too long for this file system.`);
      if (code === 'ELOOP') throw invalidParameter(`Invalid artifact path '${shown(rel)}': too many levels of symbolic links.`);
      // Missing, or a file where a directory would be: look at the parent instead.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (real !== undefined) {
      if (!isUnder(real, realRoot)) throw invalidParameter(`Invalid path '${shown(rel)}': it resolves outside the artifact root.`);
      if (isUnder(foldCase(real), internal)) throw invalidParameter(`Invalid path '${shown(rel)}': it resolves into ${INTERNAL_DIR}, which is reserved.`);
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
