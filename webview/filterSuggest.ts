/**
 * A suggestion list under a view's filter box, from the same suggest() the language server
 * completes with: it opens as you type (and on Ctrl+Space), ArrowUp/ArrowDown move, Enter or Tab
 * takes the highlighted item (Tab the first when none is), a prefix such as `metrics.` opens the
 * list again for its keys, Escape or leaving the box closes it. Enter with nothing highlighted is
 * left to the box, which applies the filter.
 */
import { suggest, type KeyStatsLike, type Suggestion } from '../src/filter/filterSuggest';
import type { SearchKind } from '../src/filter/vocabulary';
import { el } from './dom';

/** The parts of a vscode-textfield the list needs. */
export interface FilterTextfield extends HTMLElement {
  value: string;
  readonly wrappedElement: HTMLInputElement;
}

const MAX_ITEMS = 50;
let lists = 0;

/** Items whose match text starts with what was typed first, then those containing it; each group in rank order. */
function matching(items: Suggestion[], typed: string): Suggestion[] {
  const t = typed.toLowerCase();
  const ranked = items.map((s, i) => ({ s, rank: s.sort ?? i, text: (s.filterText ?? s.label).toLowerCase() }));
  const starts = ranked.filter((x) => x.text.startsWith(t));
  const contains = t ? ranked.filter((x) => !x.text.startsWith(t) && x.text.includes(t)) : [];
  const byRank = (a: { rank: number }, b: { rank: number }): number => a.rank - b.rank;
  return [...starts.sort(byRank), ...contains.sort(byRank)].map((x) => x.s);
}

/**
 * Attaches the list to `input`; `keys` says what the loaded runs or traces hold. Attach it before
 * the box's own Enter handler: an Enter that takes an item does not reach that handler.
 */
export function attachFilterSuggest(input: FilterTextfield, kind: SearchKind, keys: () => KeyStatsLike | undefined): void {
  const id = `filter-suggest-${++lists}`;
  const list = el('div', { id, class: 'filter-suggest', role: 'listbox', 'aria-label': 'filter suggestions', hidden: '' });
  document.body.append(list);
  let items: Suggestion[] = [];
  let active = -1;
  let reopen = true;

  const field = (): HTMLInputElement => input.wrappedElement;
  const ariaInit = (): void => {
    const f = field();
    f.setAttribute('role', 'combobox');
    f.setAttribute('aria-autocomplete', 'list');
    f.setAttribute('aria-expanded', 'false');
    // The box's input lives in a shadow root, so the list is linked by element, not by id.
    f.ariaControlsElements = [list];
  };

  const close = (): void => {
    if (list.hidden) return;
    list.hidden = true;
    items = [];
    active = -1;
    field().setAttribute('aria-expanded', 'false');
    field().ariaActiveDescendantElement = null;
  };

  const highlight = (i: number): void => {
    active = i;
    const options = [...list.children] as HTMLElement[];
    options.forEach((o, j) => o.setAttribute('aria-selected', String(j === i)));
    const option = options[i];
    field().ariaActiveDescendantElement = option ?? null;
    option?.scrollIntoView({ block: 'nearest' });
  };

  const place = (): void => {
    const r = input.getBoundingClientRect();
    list.style.left = `${r.left + window.scrollX}px`;
    list.style.top = `${r.bottom + window.scrollY + 2}px`;
    list.style.minWidth = `${Math.min(r.width, 520)}px`;
  };

  const open = (): void => {
    const cursor = field().selectionStart ?? input.value.length;
    const all = suggest(kind, input.value, cursor, keys(), 'filter');
    const typed = input.value.slice(all[0]?.replaceStart ?? cursor, cursor);
    items = matching(all, typed).slice(0, MAX_ITEMS);
    // Nothing left to offer once the only match is what is already there.
    if (items.length === 0 || (items.length === 1 && items[0]!.insertText.trim().toLowerCase() === typed.toLowerCase())) {
      close();
      return;
    }
    list.replaceChildren(
      ...items.map((s, i) => {
        const option = el('div', { id: `${id}-${i}`, class: `filter-suggest-item kind-${s.kind}`, role: 'option', 'aria-selected': 'false' });
        option.append(el('span', { class: 'filter-suggest-label' }, s.label));
        if (s.detail) option.append(el('span', { class: 'filter-suggest-detail' }, s.detail));
        option.addEventListener('mousedown', (e) => e.preventDefault()); // keep the caret in the box
        option.addEventListener('click', () => accept(i));
        return option;
      }),
    );
    active = -1;
    place();
    list.hidden = false;
    field().setAttribute('aria-expanded', 'true');
  };

  const accept = (i: number): void => {
    const s = items[i];
    if (!s) return;
    const cursor = field().selectionStart ?? input.value.length;
    const value = input.value;
    const next = value.slice(0, s.replaceStart) + s.insertText + value.slice(cursor);
    // The box renders its own input later: set that one now so the caret can be placed.
    field().value = next;
    input.value = next;
    const caret = s.replaceStart + s.insertText.length;
    field().setSelectionRange(caret, caret);
    close();
    reopen = s.retrigger === true;
    // The diagnostics (and this list, for a prefix) follow the new text as if it were typed.
    input.dispatchEvent(new Event('input'));
    reopen = true;
  };

  input.addEventListener('focusin', ariaInit);
  input.addEventListener('input', () => {
    ariaInit();
    if (reopen) open();
  });
  input.addEventListener('focusout', close);
  // The caret moved without typing: what fits there changed.
  input.addEventListener('keyup', (e: KeyboardEvent) => {
    if (!list.hidden && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) open();
  });
  window.addEventListener('resize', () => !list.hidden && place());
  input.addEventListener(
    'keydown',
    (e: KeyboardEvent) => {
      if (e.ctrlKey && (e.key === ' ' || e.code === 'Space')) {
        ariaInit();
        open();
      } else if (list.hidden) return;
      else if (e.key === 'ArrowDown') highlight((active + 1) % items.length);
      else if (e.key === 'ArrowUp') highlight(active <= 0 ? items.length - 1 : active - 1);
      else if (e.key === 'Escape') close();
      else if (e.key === 'Tab' && !e.shiftKey) accept(Math.max(active, 0));
      else if (e.key === 'Enter' && active >= 0) accept(active);
      else {
        if (e.key === 'Enter') close();
        return;
      }
      e.preventDefault();
      e.stopImmediatePropagation();
    },
    true,
  );
}
