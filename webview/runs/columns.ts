/** Runs-table columns: attributes, then params, latest metrics and tags by key; the default choice. */
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

export const NAME_COLUMN = 'attributes.name';
export const STATUS_COLUMN = 'attributes.status';
export const EXPERIMENT_COLUMN = 'attributes.experiment';
/** Width of the selection column left of the pinned name column. */
export const LEAD_WIDTH = 28;
export const MIN_WIDTH = 36;
/** Enough varying params and metrics to compare a sweep without a column chooser trip; the rest are one click away. */
const DEFAULT_PARAMS = 8;
const DEFAULT_METRICS = 8;

const fmtTime = (ms: number | undefined): string => (ms ? new Date(ms).toLocaleString() : '');

export const ATTRIBUTE_COLUMNS: Column[] = [
  { id: NAME_COLUMN, entity: 'attributes', key: 'name', label: 'Run', width: 220, orderField: 'attributes.run_name', numeric: false, value: (r) => r.name },
  { id: STATUS_COLUMN, entity: 'attributes', key: 'status', label: '', width: 34, orderField: 'attributes.status', numeric: false, value: (r) => r.status },
  { id: 'attributes.start', entity: 'attributes', key: 'start', label: 'Started', width: 170, orderField: 'attributes.start_time', numeric: true, value: (r) => r.startTime },
  { id: 'attributes.duration', entity: 'attributes', key: 'duration', label: 'Duration', width: 100, numeric: true, value: (r) => rowDurationMs(r) },
  { id: 'attributes.user', entity: 'attributes', key: 'user', label: 'User', width: 90, orderField: 'attributes.user_id', numeric: false, value: (r) => r.user },
];

/** The Experiment column, shown when the table spans several experiments (names by id). */
export function experimentColumn(names: ReadonlyMap<string, string>): Column {
  return { id: EXPERIMENT_COLUMN, entity: 'attributes', key: 'experiment', label: 'Experiment', width: 140, numeric: false, value: (r) => names.get(r.experimentId) ?? r.experimentId };
}

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

/**
 * Params with more than one value among the runs that have them, most distinct values first: in
 * a sweep these are the knobs that were turned. A parent that lacks the children's constant
 * params does not make them vary.
 */
export function varyingParams(rows: RunRow[]): string[] {
  const values = new Map<string, Set<string>>();
  for (const r of rows) {
    for (const [k, v] of Object.entries(r.params)) {
      let set = values.get(k);
      if (!set) values.set(k, (set = new Set()));
      set.add(v);
    }
  }
  const distinct = (k: string): number => values.get(k)!.size;
  return [...values.keys()].filter((k) => distinct(k) > 1).sort((a, b) => distinct(b) - distinct(a) || a.localeCompare(b));
}

/** Metrics most runs have first (a sweep's shared score before one run's extra), then by name. */
function commonMetrics(rows: RunRow[]): string[] {
  const count = new Map<string, number>();
  for (const r of rows) for (const k of Object.keys(r.metrics)) count.set(k, (count.get(k) ?? 0) + 1);
  return [...count.keys()].sort((a, b) => count.get(b)! - count.get(a)! || a.localeCompare(b));
}

/** The columns a table starts with: name, status, start, duration, [experiment], varying params, then metrics. */
export function defaultColumnIds(rows: RunRow[], severalExperiments: boolean): string[] {
  return [
    NAME_COLUMN,
    STATUS_COLUMN,
    'attributes.start',
    'attributes.duration',
    ...(severalExperiments ? [EXPERIMENT_COLUMN] : []),
    ...varyingParams(rows).slice(0, DEFAULT_PARAMS).map((k) => `params.${k}`),
    ...commonMetrics(rows).slice(0, DEFAULT_METRICS).map((k) => `metrics.${k}`),
  ];
}

/** Every column the loaded rows offer, attributes first (the chooser's list). */
export function availableColumns(rows: RunRow[], experimentNames: ReadonlyMap<string, string> | undefined): Column[] {
  const keys = discoverKeys(rows);
  return [
    ...ATTRIBUTE_COLUMNS,
    ...(experimentNames ? [experimentColumn(experimentNames)] : []),
    ...keys.params.map((k) => keyColumn('params', k)),
    ...keys.metrics.map((k) => keyColumn('metrics', k)),
    ...keys.tags.map((k) => keyColumn('tags', k)),
  ];
}

/** The columns to draw, in the order of `ids`; the name column is always first (it is pinned). */
export function resolveColumns(ids: string[], available: Column[], widths: Record<string, number> | undefined): Column[] {
  const byId = new Map(available.map((c) => [c.id, c]));
  const ordered = [NAME_COLUMN, ...ids.filter((id) => id !== NAME_COLUMN)];
  const out: Column[] = [];
  for (const id of ordered) {
    const c = byId.get(id);
    if (!c) continue;
    const w = widths?.[id];
    out.push(typeof w === 'number' && w >= MIN_WIDTH ? { ...c, width: Math.round(w) } : c);
  }
  return out;
}

/** Sum of the column widths plus the selection column: how wide the header and every row are. */
export function totalWidth(columns: Column[]): number {
  return LEAD_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);
}

export function formatCell(col: Column, v: string | number | undefined): string {
  if (v === undefined) return '';
  if (col.id === 'attributes.start') return fmtTime(v as number);
  if (col.id === 'attributes.duration') return formatDuration(v as number);
  if (typeof v === 'number') return formatValue(v);
  return v;
}
