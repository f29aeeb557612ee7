/** MLflow-style opaque page tokens: base64 of `{"offset": N}`. */
import { invalidParameter } from '../errors';

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw invalidParameter(`Invalid page token, could not base64-decode and parse: '${token}'`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw invalidParameter(`Invalid page token '${token}': expected a non-negative integer offset.`);
  }
  return offset;
}
