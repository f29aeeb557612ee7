/** MLflow-style opaque page tokens: base64 of `{"offset": N}`. */
import { invalidParameter } from '../../domain/errors';
import { parseJsonBounded } from '../../domain/jsonDepth';
import type { Page } from '../../domain/types';

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

/**
 * One page from rows fetched with `LIMIT limit + 1`: the extra row only says another page exists.
 */
export function pageFromLookahead<R, T>(rows: R[], limit: number, offset: number, load: (rows: R[]) => T[]): Page<T> {
  const page: Page<T> = { items: load(rows.slice(0, limit)) };
  if (rows.length > limit) page.nextPageToken = encodePageToken(offset + limit);
  return page;
}

export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    parsed = parseJsonBounded(Buffer.from(token, 'base64').toString('utf8'), 10);
  } catch {
    throw invalidParameter(`Invalid page token, could not base64-decode and parse: '${token}'`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  // A safe integer: 1e300 is an integer too, and sql.js refuses it as an OFFSET (a 500).
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidParameter(`Invalid page token '${token}': expected a non-negative integer offset.`);
  }
  return offset;
}
