/** Runs-table columns: attributes, then params, latest metrics and tags by key. */
import type { RunRow } from '../../src/ui/protocol';
import { formatDuration, formatValue, rowDurationMs } from '../format';

export type Entity = 'attributes' | 'params' | 'metrics' | 'tags';

export interface Column {
  id: string; // "attributes.name", "metrics.loss", ...
  entity: Entity;
  key: string;
  label: string;
  width: number;
  /** The MLflow order_by field, or undefined when the column cannot be sorted on the server. */
  orderField?: string;
  numeric: boolean;
  value(row: RunRow): string | number | undefined;
}

const fmtTime = (ms: number | undefined): string => (ms ? new Date(ms).toLocaleString() : '');


export const ATTRIBUTE_COLUMNS: Column[] = [
  { id: 'attributes.name', entity: 'attributes', key: 'name', label: 'Run', width: 220, orderField: 'attributes.run_name', numeric: false, value: (r) => r.name },
  { id: 'attributes.status', entity: 'attributes', key: 'status', label: 'Status', width: 90, orderField: 'attributes.status', numeric: false, value: (r) => r.status },
  { id: 'attributes.start', entity: 'attributes', key: 'start', label: 'Started', width: 170, orderField: 'attributes.start_time', numeric: true, value: (r) => r.startTime },
  { id: 'attributes.duration', entity: 'attributes', key: 'duration', label: 'Duration', width: 100, numeric: true, value: (r) => rowDurationMs(r) },
  { id: 'attributes.user', entity: 'attributes', key: 'user', label: 'User', width: 90, orderField: 'attributes.user_id', numeric: false, value: (r) => r.user },
];

export function keyColumn(entity: Exclude<Entity, 'attributes'>, key: string): Column {
  return {
    id: `${entity}.${key}`,
    entity,
    key,
    label: key,
    width: entity === 'tags' ? 140 : 110,
    orderField: `${entity}.\`${key.replace(/`/g, '')}\``,
    numeric: entity === 'metrics',
    value: (r) => (entity === 'metrics' ? r.metrics[key] : entity === 'params' ? r.params[key] : r.tags[key]),
  };
}

/** Every key seen in the loaded rows, per entity, sorted. */
export function discoverKeys(rows: RunRow[]): Record<'params' | 'metrics' | 'tags', string[]> {
  const sets = { params: new Set<string>(), metrics: new Set<string>(), tags: new Set<string>() };
  for (const r of rows) {
    for (const k of Object.keys(r.params)) sets.params.add(k);
    for (const k of Object.keys(r.metrics)) sets.metrics.add(k);
    for (const k of Object.keys(r.tags)) sets.tags.add(k);
  }
  return { params: [...sets.params].sort(), metrics: [...sets.metrics].sort(), tags: [...sets.tags].sort() };
}

export function formatCell(col: Column, v: string | number | undefined): string {
  if (v === undefined) return '';
  if (col.id === 'attributes.start') return fmtTime(v as number);
  if (col.id === 'attributes.duration') return formatDuration(v as number);
  if (typeof v === 'number') return formatValue(v);
  return v;
}

/** Parents first in the given order, each followed by its loaded children (depth-first). */
export function groupRows(rows: RunRow[]): { row: RunRow; depth: number }[] {
  const ids = new Set(rows.map((r) => r.runId));
  const children = new Map<string, RunRow[]>();
  const roots: RunRow[] = [];
  for (const r of rows) {
    if (r.parentRunId && r.parentRunId !== r.runId && ids.has(r.parentRunId)) {
      const list = children.get(r.parentRunId) ?? [];
      list.push(r);
      children.set(r.parentRunId, list);
    } else roots.push(r);
  }
  const out: { row: RunRow; depth: number }[] = [];
  const seen = new Set<string>();
  const visit = (r: RunRow, depth: number): void => {
    if (seen.has(r.runId)) return;
    seen.add(r.runId);
    out.push({ row: r, depth });
    for (const c of children.get(r.runId) ?? []) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return out;
}
