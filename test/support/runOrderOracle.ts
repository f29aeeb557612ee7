/**
 * MLflow's runs order as a plain comparator over loaded runs, independent of any SQL plan: each
 * order_by term puts runs missing the value last in both directions (metrics: NaN after numbers,
 * then missing), then `start_time DESC` (unless ordered by start_time) and `run_id ASC`
 * (sqlalchemy_store.py `_get_orderby_clauses`). ±Infinity compare as ±DBL_MAX, as MLflow stores them.
 */
import type { Run } from '../../src/domain/types';

type Dir = 1 | -1;
type Field = 'run_name' | 'status' | 'start_time' | 'end_time' | 'user_id' | 'run_id';
type Term = { kind: 'attribute'; field: Field; dir: Dir } | { kind: 'metrics' | 'params' | 'tags'; key: string; dir: Dir };

const FIELDS: Field[] = ['run_name', 'status', 'start_time', 'end_time', 'user_id', 'run_id'];

function parseTerm(item: string): Term {
  const m = /^(attributes|metrics|params|tags)\.(\S+)(?:\s+(ASC|DESC))?$/i.exec(item.trim());
  if (!m) throw new Error(`oracle: unsupported order_by ${item}`);
  const dir: Dir = m[3]?.toUpperCase() === 'DESC' ? -1 : 1;
  const entity = m[1]!.toLowerCase();
  if (entity === 'attributes') {
    const field = FIELDS.find((f) => f === m[2]);
    if (!field) throw new Error(`oracle: unsupported attribute ${m[2]!}`);
    return { kind: 'attribute', field, dir };
  }
  return { kind: entity as 'metrics' | 'params' | 'tags', key: m[2]!, dir };
}

/** [rank, value]: rank orders before value and ignores the direction. */
function sortKey(run: Run, t: Term): [number, number | string | null] {
  if (t.kind === 'attribute') {
    const v = run.info[t.field];
    return v === null || v === undefined ? [1, null] : [0, v];
  }
  if (t.kind === 'metrics') {
    const m = run.data.metrics.find((x) => x.key === t.key);
    if (!m) return [2, null];
    if (Number.isNaN(m.value)) return [1, null];
    return [0, Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, m.value))];
  }
  const list = t.kind === 'params' ? run.data.params : run.data.tags;
  const e = list.find((x) => x.key === t.key);
  return e ? [0, e.value] : [1, null];
}

function cmp(a: number | string | null, b: number | string | null): number {
  if (a === b || a === null || b === null) return 0;
  return a < b ? -1 : 1; // ASCII strings: UTF-16 order is SQLite's byte order
}

/** A comparator implementing MLflow's order for `orderBy` (undefined: start_time DESC). */
export function runComparator(orderBy: string[] | undefined): (a: Run, b: Run) => number {
  const terms = (orderBy ?? []).map(parseTerm);
  if (!terms.some((t) => t.kind === 'attribute' && t.field === 'start_time')) terms.push({ kind: 'attribute', field: 'start_time', dir: -1 });
  return (a, b) => {
    for (const t of terms) {
      const [ra, va] = sortKey(a, t);
      const [rb, vb] = sortKey(b, t);
      // The tie-break start_time DESC has no rank in MLflow, but NULL is smallest, so last in DESC too.
      if (ra !== rb) return ra - rb;
      const c = cmp(va, vb) * t.dir;
      if (c !== 0) return c;
    }
    return cmp(a.info.run_id, b.info.run_id);
  };
}
