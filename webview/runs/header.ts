/** The runs table's header: sort on click, drag a column onto another to move it, drag its edge to resize. */
import { el } from '../dom';
import { MIN_WIDTH, type Column } from './columns';

export interface HeaderHost {
  columns(): Column[];
  /** The current order_by clause, e.g. "metrics.`loss` DESC". */
  sort(): string;
  onSort(column: Column): void;
  /** Move column `id` to just before `beforeId`. */
  onMove(id: string, beforeId: string): void;
  /** A live width while dragging (`done` false), then the final one. */
  onResize(id: string, width: number, done: boolean): void;
  /** The header's select-all box: checked, mixed or not. */
  selection(): 'all' | 'some' | 'none';
  onSelectAll(checked: boolean): void;
}

type Checkbox = HTMLElement & { checked: boolean; indeterminate: boolean };

/** Set while an edge is dragged, so the header cell does not start a column move as well. */
let resizing = false;

/** Redraws the header cells (the grid template comes from the table's CSS variables). */
export function renderHeader(header: HTMLElement, host: HeaderHost): void {
  const sort = host.sort();
  const lead = el('div', { class: 'th lead' });
  const all = el('vscode-checkbox', { 'aria-label': 'select all runs', id: 'select-all' }) as Checkbox;
  const sel = host.selection();
  all.checked = sel === 'all';
  all.indeterminate = sel === 'some';
  all.addEventListener('change', () => host.onSelectAll(all.checked));
  lead.append(all);
  const cells: HTMLElement[] = [lead];
  for (const c of host.columns()) {
    const pinned = c.id === 'attributes.name';
    const th = el('div', { class: `th${c.numeric ? ' num' : ''}${c.orderField ? ' sortable' : ''}${pinned ? ' pin' : ''}`, role: 'columnheader', 'data-col': c.id, title: c.orderField ? `Sort by ${c.id}` : c.id });
    const dir = c.orderField && sort.startsWith(c.orderField + ' ') ? (sort.endsWith('ASC') ? ' ▲' : ' ▼') : '';
    if (c.entity !== 'attributes') th.append(el('span', { class: `ent ent-${c.entity}`, title: c.entity }, c.entity === 'metrics' ? 'M' : c.entity === 'params' ? 'P' : 'T'));
    th.append(el('span', { class: 'label' }, `${c.label || (c.id === 'attributes.status' ? '●' : '')}${dir}`));
    if (dir) th.setAttribute('aria-sort', dir.includes('▲') ? 'ascending' : 'descending');
    if (c.orderField) th.addEventListener('click', (e) => !(e.target as HTMLElement).classList.contains('rz') && host.onSort(c));
    if (!pinned) {
      th.draggable = true;
      th.addEventListener('dragstart', (e) => {
        if (resizing) e.preventDefault();
        else e.dataTransfer?.setData('text/x-runlens-column', c.id);
      });
    }
    th.addEventListener('dragover', (e) => {
      if (!e.dataTransfer?.types.includes('text/x-runlens-column') || pinned) return;
      e.preventDefault();
      th.classList.add('drop-target');
    });
    th.addEventListener('dragleave', () => th.classList.remove('drop-target'));
    th.addEventListener('drop', (e) => {
      th.classList.remove('drop-target');
      const id = e.dataTransfer?.getData('text/x-runlens-column');
      if (id && id !== c.id) {
        e.preventDefault();
        host.onMove(id, c.id);
      }
    });
    th.append(resizeHandle(c, host));
    cells.push(th);
  }
  header.replaceChildren(...cells);
}

function resizeHandle(c: Column, host: HeaderHost): HTMLElement {
  const handle = el('span', { class: 'rz', title: `Resize ${c.label || c.id}`, 'data-resize': c.id });
  handle.addEventListener('click', (e) => e.stopPropagation());
  handle.addEventListener('pointerdown', (e: PointerEvent) => {
    e.preventDefault();
    e.stopPropagation();
    resizing = true;
    const x0 = e.clientX;
    const w0 = c.width;
    const width = (ev: PointerEvent): number => Math.max(MIN_WIDTH, Math.round(w0 + ev.clientX - x0));
    const move = (ev: PointerEvent): void => host.onResize(c.id, width(ev), false);
    const up = (ev: PointerEvent): void => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      resizing = false;
      host.onResize(c.id, width(ev), true);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  });
  return handle;
}
