/** The span tree of a trace: children by parent, depth-first order, collapsing and search. */
import type { SpanView } from '../../src/ui/protocol';

export interface SpanTree {
  roots: SpanView[];
  children: Map<string, SpanView[]>;
  byId: Map<string, SpanView>;
  start: number;
  end: number;
}

export function buildTree(spans: SpanView[]): SpanTree {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const s of spans) {
    // A span whose parent never arrived is shown at the top rather than dropped.
    if (s.parentId && byId.has(s.parentId)) {
      const list = children.get(s.parentId) ?? [];
      list.push(s);
      children.set(s.parentId, list);
    } else roots.push(s);
  }
  const byStart = (a: SpanView, b: SpanView): number => a.startUs - b.startUs || a.spanId.localeCompare(b.spanId);
  roots.sort(byStart);
  for (const list of children.values()) list.sort(byStart);
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    start = Math.min(start, s.startUs);
    end = Math.max(end, s.endUs ?? s.startUs);
  }
  return { roots, children, byId, start: Number.isFinite(start) ? start : 0, end: Number.isFinite(end) ? end : 0 };
}

export interface FlatRow {
  span: SpanView;
  depth: number;
  hasChildren: boolean;
}

/** Depth-first rows, skipping the descendants of collapsed spans (iterative: traces can be deep). */
export function flatten(tree: SpanTree, collapsed: Set<string>): FlatRow[] {
  const out: FlatRow[] = [];
  const stack: { span: SpanView; depth: number }[] = [...tree.roots].reverse().map((span) => ({ span, depth: 0 }));
  while (stack.length) {
    const { span, depth } = stack.pop()!;
    const kids = tree.children.get(span.spanId) ?? [];
    out.push({ span, depth, hasChildren: kids.length > 0 });
    if (collapsed.has(span.spanId)) continue;
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ span: kids[i]!, depth: depth + 1 });
  }
  return out;
}

/** Lower-cased searchable text of a span, built on first search only. */
const haystacks = new WeakMap<SpanView, string>();
function haystack(s: SpanView): string {
  let h = haystacks.get(s);
  if (h === undefined) {
    h = [s.name, s.type, s.spanId, s.statusMessage ?? '', JSON.stringify(s.inputs ?? ''), JSON.stringify(s.outputs ?? ''), JSON.stringify(s.attributes), JSON.stringify(s.events)].join('\n').toLowerCase();
    haystacks.set(s, h);
  }
  return h;
}

/** Spans whose name, type, inputs, outputs, attributes or events contain `query`. */
export function searchSpans(tree: SpanTree, query: string): Set<string> {
  const q = query.trim().toLowerCase();
  const hits = new Set<string>();
  if (!q) return hits;
  for (const s of tree.byId.values()) if (haystack(s).includes(q)) hits.add(s.spanId);
  return hits;
}

/** Un-collapses every ancestor of `spanId`, so it shows. */
export function reveal(tree: SpanTree, collapsed: Set<string>, spanId: string): void {
  let cur = tree.byId.get(spanId)?.parentId;
  while (cur) {
    collapsed.delete(cur);
    cur = tree.byId.get(cur)?.parentId ?? null;
  }
}
