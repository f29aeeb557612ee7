/** Parsed JSON/YAML as a folded DOM tree (shared by the run page's previews and the trace viewer). */
import { el } from './dom';

/** A folded tree for parsed JSON/YAML: objects and arrays as <details>, the first two levels open. */
export function tree(value: unknown, label = '', depth = 0): HTMLElement {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    const d = el('details', { class: 'tree' });
    if (depth < 2) d.setAttribute('open', '');
    d.append(el('summary', {}, `${label}${label ? ': ' : ''}${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`));
    for (const [k, v] of entries) d.append(tree(v, k, depth + 1));
    return d;
  }
  const leaf = el('div', { class: 'leaf' });
  leaf.append(el('span', { class: 'key' }, label ? `${label}: ` : ''), el('span', { class: `val val-${value === null ? 'null' : typeof value}` }, JSON.stringify(value)));
  return leaf;
}
