/** The model pages' editors: a Markdown description and a tag table with add and remove. */
import { el } from '../dom';
import { renderMarkdown } from '../run/previews';

function problem(box: HTMLElement, err: unknown): void {
  box.querySelector('.error')?.remove();
  box.append(el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
}

/** The description as Markdown with Edit; Save calls `save` then `reload` (the page renders again). */
export function descriptionBox(text: string, save: (text: string) => Promise<unknown>, reload: () => Promise<void>): HTMLElement {
  const box = el('section', { class: 'note-box description-box' });
  const show = (): void => {
    const edit = el('vscode-button', { secondary: '', id: 'edit-description' }, text ? 'Edit description' : 'Add a description');
    edit.addEventListener('click', editing);
    box.replaceChildren(el('h2', {}, 'Description'), text ? renderMarkdown(text) : el('p', { class: 'empty' }, 'No description yet.'), edit);
  };
  const editing = (): void => {
    const area = el('textarea', { id: 'description-text', rows: '6', 'aria-label': 'description (Markdown)' });
    area.value = text;
    const ok = el('vscode-button', { id: 'save-description' }, 'Save');
    const cancel = el('vscode-button', { secondary: '' }, 'Cancel');
    ok.addEventListener('click', () => {
      save(area.value).then(reload, (err: unknown) => problem(box, err));
    });
    cancel.addEventListener('click', show);
    box.replaceChildren(el('h2', {}, 'Description'), area, ok, cancel);
    area.focus();
  };
  show();
  return box;
}

/** Tags with a remove button each and a key/value row to add or overwrite one. */
export function tagEditor(tags: Record<string, string>, set: (key: string, value: string) => Promise<unknown>, remove: (key: string) => Promise<unknown>, reload: () => Promise<void>): HTMLElement {
  const box = el('section', { class: 'tag-editor', id: 'tags' });
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  box.append(el('h2', {}, `Tags (${entries.length})`));
  const t = el('table', { class: 'kv tags' });
  for (const [k, v] of entries) {
    const tr = el('tr', { 'data-key': k });
    const del = el('vscode-button', { secondary: '', class: 'remove-tag', title: `Remove tag ${k}`, 'aria-label': `Remove tag ${k}` }, '✕');
    del.addEventListener('click', () => {
      remove(k).then(reload, (err: unknown) => problem(box, err));
    });
    const td = el('td');
    td.append(del);
    tr.append(el('th', {}, k), el('td', {}, v), td);
    t.append(tr);
  }
  const key = el('input', { id: 'tag-key', placeholder: 'key', 'aria-label': 'tag key' });
  const value = el('input', { id: 'tag-value', placeholder: 'value', 'aria-label': 'tag value' });
  const add = el('vscode-button', { id: 'add-tag', secondary: '' }, 'Set tag');
  const submit = (): void => {
    if (!key.value.trim()) {
      key.focus();
      return;
    }
    set(key.value.trim(), value.value).then(reload, (err: unknown) => problem(box, err));
  };
  add.addEventListener('click', submit);
  value.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') submit();
  });
  const row = el('div', { class: 'tag-add' });
  row.append(key, value, add);
  box.append(t, row);
  return box;
}
