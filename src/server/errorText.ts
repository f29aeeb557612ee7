/**
 * Error messages go to clients without the store's absolute location: a file-system error
 * (`ENOENT: …, open '/home/me/project/mlruns/1/…'`) names the store root, which a client of a
 * local server has no business learning. The root (and its real path) become `<store>`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlflowError } from '../domain/errors';

function spellings(root: string): string[] {
  const out = new Set([path.resolve(root)]);
  try {
    out.add(fs.realpathSync(root));
    out.add(fs.realpathSync.native(root));
  } catch {
    // a root that is gone has only the spelling we were given
  }
  // Longest first, so a root inside another spelling is replaced whole ('/' alone is no secret).
  return [...out].filter((r) => r !== path.parse(r).root).sort((a, b) => b.length - a.length);
}

export function redactStorePaths(message: string, root: string): string {
  let out = message;
  for (const r of spellings(root)) out = out.split(r).join('<store>');
  return out;
}

/**
 * The same error with the store root taken out of its message (the error itself when absent,
 * or when the backend keeps no local files).
 */
export function withoutStorePaths(err: MlflowError, root: string | undefined): MlflowError {
  if (root === undefined) return err;
  const message = redactStorePaths(err.message, root);
  if (message === err.message) return err;
  const copy = new MlflowError(err.errorCode, message);
  // Keep a subclass's status (e.g. 413 for an oversized artifact).
  Object.defineProperty(copy, 'httpStatus', { value: err.httpStatus });
  return copy;
}
