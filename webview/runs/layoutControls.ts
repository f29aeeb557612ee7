/** The runs table's layout controls: column chooser, group-by choice and saved views. */
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { SavedTableView } from '../../src/ui/protocol';
import { el } from '../dom';
import type { Column } from './columns';

type Checkbox = HTMLElement & { checked: boolean };
type Select = HTMLElement & { value: string };

/** Fills the chooser with one checkbox per available column, grouped by kind. */
export function renderChooser(chooser: HTMLElement, available: Column[], shown: ReadonlySet<string>, onToggle: (id: string, on: boolean) => void): void {
  chooser.replaceChildren();
  const kinds: [string, Column['entity']][] = [
    ['Attributes', 'attributes'],
    ['Parameters', 'params'],
    ['Metrics', 'metrics'],
    ['Tags', 'tags'],
  ];
  for (const [name, entity] of kinds) {
    const cols = available.filter((c) => c.entity === entity && c.id !== 'attributes.name');
    if (cols.length === 0) continue;
    const box = el('fieldset');
    box.append(el('legend', {}, name));
    for (const c of cols) {
      const cb = el('vscode-checkbox', { label: c.label || 'Status', 'data-col': c.id }) as Checkbox;
      cb.checked = shown.has(c.id);
      cb.addEventListener('change', () => onToggle(c.id, cb.checked));
      box.append(cb);
    }
    chooser.append(box);
  }
}

/** The group-by choice: none, parent run, or one of the loaded params (and the status). */
export function renderGroupSelect(select: Select, params: string[], current: string): void {
  const options: [string, string][] = [
    ['', 'No grouping'],
    ['parent', 'Group: parent run'],
    ['attributes.status', 'Group: status'],
    ...params.map((k): [string, string] => [`params.${k}`, `Group: ${k}`]),
  ];
  if (current && !options.some(([v]) => v === current)) options.push([current, `Group: ${current.replace(/^\w+\./, '')}`]);
  select.replaceChildren(...options.map(([value, label]) => el('vscode-option', { value, ...(value === current ? { selected: '' } : {}) }, label)));
  select.value = current;
}

export interface SavedViewsHost {
  views(): SavedTableView[];
  save(name: string): void;
  apply(view: SavedTableView): void;
  remove(name: string): void;
}

/** A select of saved views plus a name box to save the current layout under a name. */
export function savedViewsControl(host: SavedViewsHost): { element: HTMLElement; refresh(): void } {
  const wrap = el('div', { class: 'saved-views' });
  const select = el('vscode-single-select', { id: 'views', 'aria-label': 'saved views' }) as Select;
  const name = el('vscode-textfield', { id: 'view-name', placeholder: 'View name', 'aria-label': 'name for the saved view' }) as HTMLElement & { value: string };
  const saveBtn = el('vscode-button', { id: 'save-view', secondary: '' }, 'Save View');
  const removeBtn = el('vscode-button', { id: 'remove-view', secondary: '', disabled: '' }, 'Delete View');
  const refresh = (): void => {
    const views = host.views();
    select.replaceChildren(el('vscode-option', { value: '' }, views.length ? 'Saved views…' : 'No saved views'), ...views.map((v) => el('vscode-option', { value: v.name }, v.name)));
    select.value = '';
    removeBtn.setAttribute('disabled', '');
  };
  select.addEventListener('change', () => {
    const view = host.views().find((v) => v.name === select.value);
    if (!view) return;
    host.apply(view);
    name.value = view.name;
    removeBtn.removeAttribute('disabled');
  });
  const save = (): void => {
    const n = name.value.trim();
    if (!n) return;
    host.save(n);
    refresh();
  };
  saveBtn.addEventListener('click', save);
  name.addEventListener('keydown', (e: KeyboardEvent) => e.key === 'Enter' && save());
  removeBtn.addEventListener('click', () => {
    if (!name.value.trim()) return;
    host.remove(name.value.trim());
    name.value = '';
    refresh();
  });
  wrap.append(select, name, saveBtn, removeBtn);
  refresh();
  return { element: wrap, refresh };
}
