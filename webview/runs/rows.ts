/**
 * The runs table's body: only the visible rows exist in the DOM (10k runs scroll smoothly), each
 * as wide as the header; a keyboard cursor moves with the arrows, Enter opens, Space selects.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { WireRunStatus } from '../../src/client/wireTypes';
import { el } from '../dom';
import { formatCell, NAME_COLUMN, STATUS_COLUMN, type Column } from './columns';
import type { Entry } from './grouping';

export const ROW_H = 26;
const OVERSCAN = 12;

export interface RowsHost {
  entries(): Entry[];
  columns(): Column[];
  isSelected(runId: string): boolean;
  toggle(runId: string, on: boolean): void;
  open(runId: string): void;
  toggleGroup(key: string): void;
}

const STATUS_ICON: Record<string, string> = { RUNNING: '⟳', SCHEDULED: '◷', FINISHED: '✓', FAILED: '✕', KILLED: '⊘' };

function statusIcon(status: WireRunStatus): HTMLElement {
  const label = status.charAt(0) + status.slice(1).toLowerCase();
  return el('span', { class: `status-icon st-${status.toLowerCase()}`, title: label, 'aria-label': label, role: 'img' }, STATUS_ICON[status] ?? '○');
}

type Checkbox = HTMLElement & { checked: boolean };

export class RowsView {
  private lastRange = '';
  /** Index of the keyboard cursor in the entries, -1 before the first key press or click. */
  cursor = -1;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly body: HTMLElement,
    private readonly header: HTMLElement,
    private readonly host: RowsHost,
  ) {
    scroller.addEventListener('scroll', () => this.render(), { passive: true });
    scroller.addEventListener('keydown', (e) => this.onKey(e));
  }

  render(force = false): void {
    const entries = this.host.entries();
    // The sticky header covers the top of the scroller, so body row y is visible from scrollTop on.
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(entries.length, Math.ceil((top + this.scroller.clientHeight) / ROW_H) + OVERSCAN);
    const range = `${first}:${last}:${entries.length}:${this.cursor}`;
    if (!force && range === this.lastRange) return;
    this.lastRange = range;
    this.body.style.height = `${entries.length * ROW_H}px`;
    const out: HTMLElement[] = [];
    for (let i = first; i < last; i++) out.push(this.row(entries[i]!, i));
    this.body.replaceChildren(...out);
    const active = entries[this.cursor];
    if (active) this.scroller.setAttribute('aria-activedescendant', `row-${this.cursor}`);
    else this.scroller.removeAttribute('aria-activedescendant');
    document.body.dataset.renderedRows = String(out.length);
  }

  private row(entry: Entry, i: number): HTMLElement {
    const cursor = i === this.cursor ? ' cursor' : '';
    if (entry.kind === 'group') {
      const tr = el('div', { class: `tr group-row${cursor}`, role: 'row', id: `row-${i}`, 'data-group': entry.key, 'aria-expanded': String(!entry.collapsed) });
      tr.style.top = `${i * ROW_H}px`;
      const cell = el('div', { class: 'td group-cell', role: 'cell' });
      cell.append(el('span', { class: 'twisty' }, entry.collapsed ? '▸' : '▾'), ` ${entry.label}`, el('span', { class: 'group-count' }, ` · ${entry.count} run${entry.count === 1 ? '' : 's'}`));
      tr.append(cell);
      tr.addEventListener('click', () => {
        this.cursor = i;
        this.host.toggleGroup(entry.key);
      });
      return tr;
    }
    const { row, depth } = entry;
    const picked = this.host.isSelected(row.runId);
    const tr = el('div', { class: `tr${row.deleted ? ' deleted' : ''}${picked ? ' selected' : ''}${cursor}`, role: 'row', id: `row-${i}`, 'data-run': row.runId, 'aria-selected': String(picked) });
    tr.style.top = `${i * ROW_H}px`;
    const pick = el('vscode-checkbox', { 'aria-label': `select ${row.name}`, class: 'pick' }) as Checkbox;
    pick.checked = picked;
    pick.addEventListener('change', () => this.host.toggle(row.runId, pick.checked));
    const lead = el('div', { class: 'td lead' });
    lead.append(pick);
    tr.append(lead);
    for (const c of this.host.columns()) {
      if (c.id === STATUS_COLUMN) {
        const td = el('div', { class: 'td st-cell', role: 'cell' });
        td.append(statusIcon(row.status));
        tr.append(td);
        continue;
      }
      const td = el('div', { class: `td${c.numeric ? ' num' : ''}`, role: 'cell' }, formatCell(c, c.value(row)));
      if (c.id === NAME_COLUMN) {
        td.textContent = '';
        td.classList.add('pin');
        td.style.paddingLeft = `${6 + depth * 16}px`;
        const link = el('a', { href: '#', class: 'run-link', title: row.runId, tabindex: '-1' }, (depth > 0 && !this.grouped() ? '↳ ' : '') + row.name);
        link.addEventListener('click', (e) => {
          e.preventDefault();
          this.host.open(row.runId);
        });
        td.append(link);
      }
      tr.append(td);
    }
    tr.addEventListener('mousedown', () => {
      this.cursor = i;
      for (const r of this.body.querySelectorAll('.tr.cursor')) r.classList.remove('cursor');
      tr.classList.add('cursor');
      this.scroller.setAttribute('aria-activedescendant', tr.id);
    });
    return tr;
  }

  /** Whether the entries are value groups (children then are not marked with an arrow). */
  private grouped(): boolean {
    return this.host.entries()[0]?.kind === 'group';
  }

  /** Moves the cursor to `i` (clamped) and scrolls it into view below the sticky header. */
  moveTo(i: number): void {
    const n = this.host.entries().length;
    if (n === 0) return;
    this.cursor = Math.max(0, Math.min(n - 1, i));
    const headerH = this.header.offsetHeight;
    const y = this.cursor * ROW_H;
    if (y < this.scroller.scrollTop) this.scroller.scrollTop = y;
    else if (y + ROW_H + headerH > this.scroller.scrollTop + this.scroller.clientHeight) this.scroller.scrollTop = y + ROW_H + headerH - this.scroller.clientHeight;
    this.render(true);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.target !== this.scroller) return; // keys typed in a checkbox or link keep their own meaning
    const page = Math.max(1, Math.floor((this.scroller.clientHeight - this.header.offsetHeight) / ROW_H) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    const entry = this.host.entries()[this.cursor];
    if (e.key in moves) this.moveTo(this.cursor < 0 ? 0 : this.cursor + moves[e.key]!);
    else if (e.key === 'Home') this.moveTo(0);
    else if (e.key === 'End') this.moveTo(this.host.entries().length - 1);
    else if (e.key === 'Enter' && entry) {
      if (entry.kind === 'run') this.host.open(entry.row.runId);
      else this.host.toggleGroup(entry.key);
    } else if (e.key === ' ' && entry) {
      if (entry.kind === 'run') this.host.toggle(entry.row.runId, !this.host.isSelected(entry.row.runId));
      else this.host.toggleGroup(entry.key);
    } else return;
    e.preventDefault();
  }
}
