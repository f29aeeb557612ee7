/** The table's row order: flat, children under their parent, or runs grouped by a column's value. */
import type { RunRow } from '../../src/ui/protocol';
import type { Column } from './columns';

export type Entry = { kind: 'run'; row: RunRow; depth: number } | { kind: 'group'; key: string; label: string; count: number; collapsed: boolean };

/** Parents first in the given order, each followed by its loaded children (depth-first). */
export function groupByParent(rows: RunRow[]): Entry[] {
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
  const out: Entry[] = [];
  const seen = new Set<string>();
  const visit = (r: RunRow, depth: number): void => {
    if (seen.has(r.runId)) return;
    seen.add(r.runId);
    out.push({ kind: 'run', row: r, depth });
    for (const c of children.get(r.runId) ?? []) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return out;
}

const NOT_SET = '(not set)';

/**
 * One heading per distinct value of `column` (numbers in numeric order, then text, runs without
 * the value last), each followed by its runs in the server's order unless collapsed.
 */
export function groupByValue(rows: RunRow[], column: Column, collapsed: ReadonlySet<string>): Entry[] {
  const groups = new Map<string, RunRow[]>();
  for (const r of rows) {
    const v = column.value(r);
    const key = v === undefined || v === '' ? NOT_SET : String(v);
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  const keys = [...groups.keys()].sort((a, b) => {
    if (a === NOT_SET || b === NOT_SET) return a === NOT_SET ? (b === NOT_SET ? 0 : 1) : -1;
    const na = Number(a);
    const nb = Number(b);
    if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
    return a.localeCompare(b, undefined, { numeric: true });
  });
  const out: Entry[] = [];
  for (const key of keys) {
    const runs = groups.get(key)!;
    const isCollapsed = collapsed.has(key);
    out.push({ kind: 'group', key, label: `${column.label} = ${key}`, count: runs.length, collapsed: isCollapsed });
    if (!isCollapsed) for (const row of runs) out.push({ kind: 'run', row, depth: 1 });
  }
  return out;
}

/** The entries for a grouping choice: '' flat, 'parent', or a column id. */
export function arrange(rows: RunRow[], groupBy: string, columnFor: (id: string) => Column | undefined, collapsed: ReadonlySet<string>): Entry[] {
  if (groupBy === 'parent') return groupByParent(rows);
  const column = groupBy ? columnFor(groupBy) : undefined;
  if (column) return groupByValue(rows, column, collapsed);
  return rows.map((row) => ({ kind: 'run', row, depth: 0 }));
}
