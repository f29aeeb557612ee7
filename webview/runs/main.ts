/**
 * The runs table: one or more experiments, columns for attributes, params, latest metrics and
 * tags (column chooser), server-side sort on any sortable column, MLflow filter box with inline
 * errors, child runs grouped under parents, virtualised rows (10k runs scroll smoothly: only the
 * visible rows exist in the DOM), selection → charts / compare / diff, live refresh.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { RunRow, RunsTableState } from '../../src/ui/protocol';
import { el } from '../dom';
import { createTransport } from '../transport';
import { watchFilterInput } from '../filterDiagnostics';
import { ATTRIBUTE_COLUMNS, discoverKeys, formatCell, groupRows, keyColumn, type Column } from './columns';

const ROW_H = 26;
const OVERSCAN = 12;
const PAGE = 1000;
const MAX_ROWS = 50_000;
const DEFAULT_KEY_COLUMNS = 12;

const transport = createTransport();
const state: RunsTableState = { filter: '', orderBy: ['attributes.start_time DESC'], groupChildren: true, ...transport.loadState<RunsTableState>({ experimentIds: [] }) };
let rows: RunRow[] = [];
let ordered: { row: RunRow; depth: number }[] = [];
let columns: Column[] = [];
const selected = new Set<string>();
let generation = 0;
const app = document.getElementById('app')!;

const save = (): void => transport.saveState(state);

// --- layout ---------------------------------------------------------------------------------

const title = el('h1', {}, 'Runs');
const filter = el('vscode-textfield', { id: 'filter', placeholder: "Filter: metrics.loss < 0.2 and params.optimizer = 'adam'", 'aria-label': 'filter runs' }) as HTMLElement & { value: string };
const filterError = el('div', { class: 'filter-error', role: 'alert' });
const status = el('span', { class: 'count', id: 'count' });
const group = el('vscode-checkbox', { label: 'Group child runs', id: 'group' }) as HTMLElement & { checked: boolean };
const chooseBtn = el('vscode-button', { id: 'columns', secondary: '' }, 'Columns…');
const chartsBtn = el('vscode-button', { id: 'charts', disabled: '' }, 'Charts');
const compareBtn = el('vscode-button', { id: 'compare', disabled: '' }, 'Compare');
const chooser = el('div', { class: 'chooser', hidden: '' });
const header = el('div', { class: 'thead', role: 'row' });
const viewport = el('div', { class: 'tbody', role: 'rowgroup' });
const spacer = el('div', { class: 'spacer' });
const empty = el('p', { class: 'empty', hidden: '' });
viewport.append(spacer);

function gridTemplate(): string {
  return ['28px', ...columns.map((c) => `${c.width}px`)].join(' ');
}

function allColumns(): Column[] {
  const keys = discoverKeys(rows);
  return [...ATTRIBUTE_COLUMNS, ...keys.metrics.map((k) => keyColumn('metrics', k)), ...keys.params.map((k) => keyColumn('params', k)), ...keys.tags.map((k) => keyColumn('tags', k))];
}

function chooseColumns(): void {
  const all = allColumns();
  if (!state.columns) {
    const keyed = all.filter((c) => c.entity === 'metrics' || c.entity === 'params').slice(0, DEFAULT_KEY_COLUMNS);
    state.columns = [...ATTRIBUTE_COLUMNS, ...keyed].map((c) => c.id);
  }
  const wanted = new Set(state.columns);
  columns = all.filter((c) => wanted.has(c.id));
}

function renderHeader(): void {
  header.style.gridTemplateColumns = gridTemplate();
  const cells: HTMLElement[] = [el('div', { class: 'th' })];
  const sort = state.orderBy?.[0] ?? '';
  for (const c of columns) {
    const th = el('div', { class: `th ${c.numeric ? 'num' : ''} ${c.orderField ? 'sortable' : ''}`, role: 'columnheader', 'data-col': c.id, title: c.orderField ? `Sort by ${c.id}` : c.id });
    const dir = c.orderField && sort.startsWith(c.orderField + ' ') ? (sort.endsWith('ASC') ? ' ▲' : ' ▼') : '';
    if (c.entity !== 'attributes') th.append(el('span', { class: `ent ent-${c.entity}`, title: c.entity }, c.entity === 'metrics' ? 'M' : c.entity === 'params' ? 'P' : 'T'));
    th.append(`${c.label}${dir}`);
    if (dir) th.setAttribute('aria-sort', dir.includes('▲') ? 'ascending' : 'descending');
    if (c.orderField) {
      th.addEventListener('click', () => {
        // Same column: flip the direction; a new column starts high-to-low for numbers, A→Z for text.
        const current = sort.startsWith(`${c.orderField} `);
        const desc = current ? sort.endsWith('ASC') : c.numeric;
        state.orderBy = [`${c.orderField} ${desc ? 'DESC' : 'ASC'}`];
        save();
        void load();
      });
    }
    cells.push(th);
  }
  header.replaceChildren(...cells);
}

function renderChooser(): void {
  const keys = discoverKeys(rows);
  const wanted = new Set(state.columns);
  chooser.replaceChildren();
  const groups: [string, Column[]][] = [
    ['Attributes', ATTRIBUTE_COLUMNS],
    ['Metrics', keys.metrics.map((k) => keyColumn('metrics', k))],
    ['Parameters', keys.params.map((k) => keyColumn('params', k))],
    ['Tags', keys.tags.map((k) => keyColumn('tags', k))],
  ];
  for (const [name, cols] of groups) {
    if (cols.length === 0) continue;
    const box = el('fieldset');
    box.append(el('legend', {}, name));
    for (const c of cols) {
      const cb = el('vscode-checkbox', { label: c.label, 'data-col': c.id }) as HTMLElement & { checked: boolean };
      cb.checked = wanted.has(c.id);
      cb.addEventListener('change', () => {
        state.columns = cb.checked ? [...(state.columns ?? []), c.id] : (state.columns ?? []).filter((id) => id !== c.id);
        save();
        redraw();
      });
      box.append(cb);
    }
    chooser.append(box);
  }
}

// --- rows (virtualised) ----------------------------------------------------------------------

let lastRange = '';

function renderRows(force = false): void {
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(ordered.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_H) + OVERSCAN);
  const range = `${first}:${last}:${ordered.length}`;
  if (!force && range === lastRange) return;
  lastRange = range;
  spacer.style.height = `${ordered.length * ROW_H}px`;
  const template = gridTemplate();
  const out: HTMLElement[] = [];
  for (let i = first; i < last; i++) {
    const { row, depth } = ordered[i]!;
    const tr = el('div', { class: `tr status-${row.status.toLowerCase()}${row.deleted ? ' deleted' : ''}${selected.has(row.runId) ? ' selected' : ''}`, role: 'row', 'data-run': row.runId });
    tr.style.top = `${i * ROW_H}px`;
    tr.style.gridTemplateColumns = template;
    const pick = el('input', { type: 'checkbox', 'aria-label': `select ${row.name}` });
    pick.checked = selected.has(row.runId);
    pick.addEventListener('change', () => {
      if (pick.checked) selected.add(row.runId);
      else selected.delete(row.runId);
      tr.classList.toggle('selected', pick.checked);
      updateButtons();
    });
    const lead = el('div', { class: 'td' });
    lead.append(pick);
    tr.append(lead);
    for (const c of columns) {
      const v = c.value(row);
      const td = el('div', { class: `td ${c.numeric ? 'num' : ''}`, role: 'cell' }, formatCell(c, v));
      if (c.id === 'attributes.name') {
        td.textContent = '';
        td.style.paddingLeft = `${6 + depth * 16}px`;
        const link = el('a', { href: '#', class: 'run-link', title: row.runId }, (depth > 0 ? '↳ ' : '') + row.name);
        link.addEventListener('click', (e) => {
          e.preventDefault();
          transport.action('openRun', [row.runId]);
        });
        td.append(link);
      }
      tr.append(td);
    }
    out.push(tr);
  }
  viewport.replaceChildren(spacer, ...out);
  document.body.dataset.renderedRows = String(out.length);
}

function updateButtons(): void {
  const n = selected.size;
  if (n >= 1) chartsBtn.removeAttribute('disabled');
  else chartsBtn.setAttribute('disabled', '');
  if (n >= 2) compareBtn.removeAttribute('disabled');
  else compareBtn.setAttribute('disabled', '');
  compareBtn.textContent = n === 2 && transport.inVsCode ? 'Diff' : 'Compare';
}

function reorder(): void {
  ordered = state.groupChildren ? groupRows(rows) : rows.map((row) => ({ row, depth: 0 }));
  status.textContent = `${rows.length.toLocaleString()} run${rows.length === 1 ? '' : 's'}${rows.length >= MAX_ROWS ? '+' : ''}`;
  document.body.dataset.totalRows = String(rows.length);
  empty.hidden = rows.length > 0;
  empty.textContent = state.filter ? 'No runs match the filter.' : 'No runs in this experiment yet.';
}

/** Columns, header and visible rows from `rows` and the state. */
function redraw(): void {
  chooseColumns();
  renderHeader();
  reorder();
  renderRows(true);
}

// --- loading ---------------------------------------------------------------------------------

/** Loads every page (progressively: the first page shows at once), or `keep` rows on a live refresh. */
async function load(keep?: number): Promise<void> {
  const gen = ++generation;
  const t0 = performance.now();
  let token: string | undefined;
  const next: RunRow[] = [];
  filterError.textContent = '';
  try {
    do {
      const page = await transport.call({ kind: 'searchRuns', experimentIds: state.experimentIds, filter: state.filter ?? '', orderBy: state.orderBy ?? [], maxResults: PAGE, ...(token ? { pageToken: token } : {}) });
      if (gen !== generation) return;
      next.push(...page.rows);
      token = page.nextPageToken;
      if (next.length === page.rows.length) {
        document.body.dataset.firstPageMs = String(Math.round(performance.now() - t0));
        // More pages follow: show the first one now, the rest when they are all here.
        if (token) {
          rows = next.slice();
          redraw();
        }
      }
    } while (token && next.length < (keep ?? MAX_ROWS));
    rows = next;
    redraw();
    if (!chooser.hidden) renderChooser();
    document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
    document.body.dataset.loadedAt = String(Date.now());
  } catch (err) {
    if (gen !== generation) return;
    filterError.textContent = err instanceof Error ? err.message : String(err);
    document.body.dataset.loadedAt = String(Date.now());
  }
}

async function main(): Promise<void> {
  // A run link printed by the mlflow client (`/#/experiments/<id>/runs/<run>`) lands here.
  const linked = /#\/experiments\/[^/]+\/runs\/([0-9a-f]{32})/.exec(window.location.hash);
  if (linked && !transport.inVsCode) {
    window.location.replace(`/runlens/ui/run?run=${linked[1]}`);
    return;
  }
  if (state.experimentIds.length === 0) {
    app.replaceChildren(el('div', { class: 'error', role: 'alert' }, 'No experiment selected. Open the runs table from an experiment in the Runlens explorer.'));
    return;
  }
  const experiments = await transport.call({ kind: 'experiments', experimentIds: state.experimentIds });
  title.textContent = experiments.length === 1 ? `Runs of ${experiments[0]!.name}` : `Runs of ${experiments.length} experiments`;
  filter.value = state.filter ?? '';
  group.checked = state.groupChildren !== false;
  const bar = el('div', { class: 'toolbar' });
  bar.append(filter, group, chooseBtn, chartsBtn, compareBtn, status);
  const table = el('div', { class: 'table', role: 'table' });
  table.append(header, viewport);
  app.replaceChildren(title, bar, filterError, chooser, table, empty);

  // Keys are not checked here: the table holds one page of runs, not every key of the experiment.
  watchFilterInput(filter, filterError, 'runs');
  filter.addEventListener('keydown', (e: KeyboardEvent) => {
    if (e.key !== 'Enter') return;
    state.filter = filter.value.trim();
    save();
    void load();
  });
  group.addEventListener('change', () => {
    state.groupChildren = group.checked;
    save();
    reorder();
    renderRows(true);
  });
  chooseBtn.addEventListener('click', () => {
    chooser.hidden = !chooser.hidden;
    if (!chooser.hidden) renderChooser();
  });
  chartsBtn.addEventListener('click', () => transport.action('openCharts', [...selected]));
  compareBtn.addEventListener('click', () => transport.action(selected.size === 2 ? 'openDiff' : 'compare', [...selected]));
  viewport.addEventListener('scroll', () => renderRows(), { passive: true });
  window.addEventListener('resize', () => renderRows(true));

  let timer: ReturnType<typeof setTimeout> | undefined;
  transport.onPush((push) => {
    if (push.kind !== 'runChanged' || !state.experimentIds.includes(push.experimentId) || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void load(Math.max(rows.length, PAGE));
    }, 1000);
  });
  await load();
}

main().catch((err: unknown) => app.replaceChildren(el('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err))));
