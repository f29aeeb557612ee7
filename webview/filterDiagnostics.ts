/**
 * Live filter diagnostics under a view's filter box: the same parser and vocabulary the server
 * and the editor use, run in the view as you type, so a mistake shows with its place (the filter
 * repeated with the broken part marked) and a did-you-mean before the search is sent.
 */
import { checkFilter, describeDiagnostic, type KnownKeys } from '../src/filter/filterCheck';
import type { FilterDiagnostic } from '../src/filter/filterAst';
import { VOCABULARIES, type SearchKind } from '../src/filter/vocabulary';
import { el } from './dom';

/** The filter with each diagnostic's text marked (a zero-width one at the end as a caret). */
function marked(filter: string, ds: FilterDiagnostic[]): HTMLElement {
  const line = el('code', { class: 'filter-marked' });
  let at = 0;
  for (const d of ds) {
    if (d.start < at) continue;
    line.append(filter.slice(at, d.start));
    const mark = el('mark', { class: d.severity === 'warning' ? 'filter-warning' : 'filter-problem', title: d.message }, filter.slice(d.start, d.end) || '␣');
    line.append(mark);
    at = Math.max(d.end, d.start);
  }
  line.append(filter.slice(at));
  return line;
}

/** Renders `filter`'s diagnostics into `box` (emptied when there are none); returns them. */
export function renderFilterDiagnostics(box: HTMLElement, kind: SearchKind, filter: string, known: KnownKeys = {}): FilterDiagnostic[] {
  const diagnostics = filter.trim() ? checkFilter(VOCABULARIES[kind], filter, known).diagnostics : [];
  box.replaceChildren();
  box.classList.toggle('filter-warnings-only', diagnostics.length > 0 && diagnostics.every((d) => d.severity === 'warning'));
  if (!diagnostics.length) return diagnostics;
  box.append(marked(filter, diagnostics));
  for (const d of diagnostics) box.append(el('div', { class: 'filter-diagnostic', 'data-code': d.code }, describeDiagnostic(d)));
  return diagnostics;
}

/** Re-checks the input's filter on every keystroke. */
export function watchFilterInput(input: HTMLElement & { value: string }, box: HTMLElement, kind: SearchKind, known: () => KnownKeys = () => ({})): void {
  input.addEventListener('input', () => renderFilterDiagnostics(box, kind, input.value, known()));
}
