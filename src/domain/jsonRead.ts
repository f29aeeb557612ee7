/**
 * Reading MLflow's protobuf JSON defensively: empty lists and default values left out, int64s
 * maybe quoted, so each field is read with the value its absence means. Pure: the REST source
 * and the views' readers of a server's answers share them.
 */
import type { Tag } from './types';

export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : dflt);
export const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** int64 fields arrive as numbers or quoted. */
export function int(v: unknown, dflt = 0): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return dflt;
}

/** A `[{key, value}]` list (tags, a 2.x trace's request metadata). */
export function tagList(v: unknown): Tag[] {
  return list(v).map((t) => ({ key: str(obj(t).key), value: str(obj(t).value) }));
}
