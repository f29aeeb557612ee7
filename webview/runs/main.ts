/**
 * The runs table: one or more experiments, columns for attributes, params, latest metrics and
 * tags (chooser, drag to reorder, drag an edge to resize), server-side sort, MLflow filter box,
 * grouping by parent or by a value, virtualised rows, a pinned name column, keyboard navigation,
 * selection → charts / compare / diff, live refresh. The layout persists per experiment.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { type RunRow, type RunsTableState } from '../../src/ui/protocol';
import { el } from '../dom';
import { createTransport, isAbortError } from '../transport';
import { cancelledNotice, withBusy } from '../busy';
import { availableColumns, defaultColumnIds, discoverKeys, resolveColumns, totalWidth, LEAD_WIDTH, type Column } from './columns';
import { arrange, type Entry } from './grouping';
import { renderHeader } from './header';
import { renderChooser, renderGroupSelect, savedViewsControl } from './layoutControls';
import { TablePrefs } from './tablePrefs';
import { RowsView } from './rows';
import { watchFilterInput } from '../filterDiagnostics';
import { attachFilterSuggest, type FilterTextfield } from '../filterSuggest';
import { runFilterKeys, type FilterKeys } from './filterKeys';

const PAGE = 1000;
const MAX_ROWS = 50_000;

const transport = withBusy(createTransport());
const loaded = transport.loadState<RunsTableState>({ experimentIds: [] });
const state: RunsTableState = { filter: '', orderBy: ['attributes.start_time DESC'], groupBy: loaded.groupChildren === false ? '' : 'parent', ...loaded };
delete state.groupChildren;
const prefs = new TablePrefs(transport, state);
let rows: RunRow[] = [];
let entries: Entry[] = [];
let available: Column[] = [];
let columns: Column[] = [];
let experimentNames: Map<string, string> | undefined;
const selected = new Set<string>();
const collapsed = new Set<string>();
let generation = 0;
// The filter box's keys come from the last load without a filter (every run, up to MAX_ROWS), or
// until there is one from whatever the table holds; worked out when the box first asks.
let keyRows: { rows: RunRow[]; whole: boolean } = { rows: [], whole: false };
let filterKeys: (FilterKeys & { from: RunRow[] }) | undefined;
function currentFilterKeys(): FilterKeys {
  if (filterKeys?.from !== keyRows.rows) filterKeys = { from: keyRows.rows, ...runFilterKeys(keyRows.rows, keyRows.whole) };
  return filterKeys;
}
const app = document.getElementById('app')!;

// --- layout ---------------------------------------------------------------------------------

const title = el('h1', {}, 'Runs');
const filter: FilterTextfield = el('vscode-textfield', { id: 'filter', placeholder: "Filter: metrics.loss < 0.2 and params.optimizer = 'adam'", 'aria-label': 'filter runs' });
const filterError = el('div', { class: 'filter-error', role: 'alert' });
const status = el('span', { class: 'count', id: 'count' });
const groupSelect = el('vscode-single-select', { id: 'group', 'aria-label': 'group runs by' }) as HTMLElement & { value: string };
const chooseBtn = el('vscode-button', { id: 'columns', secondary: '' }, 'Columns…');
const resetBtn = el('vscode-button', { id: 'reset-columns', secondary: '' }, 'Default Columns');
const chartsBtn = el('vscode-button', { id: 'charts', disabled: '' }, 'Charts');
const compareBtn = el('vscode-button', { id: 'compare', disabled: '' }, 'Compare');
const chooser = el('div', { class: 'chooser', hidden: '' });
const scroller = el('div', { class: 'table runs-grid', role: 'grid', tabindex: '0', 'aria-label': 'runs (arrow keys move, Enter opens, Space selects)' });
const header = el('div', { class: 'thead', role: 'row' });
const body = el('div', { class: 'tbody', role: 'rowgroup' });
const empty = el('p', { class: 'empty', hidden: '' });
scroller.append(header, body);

const rowsView = new RowsView(scroller, body, header, {
  entries: () => entries,
  columns: () => columns,
  isSelected: (id) => selected.has(id),
  toggle: (id, on) => {
    if (on) selected.add(id);
    else selected.delete(id);
    afterSelection();
  },
  open: (id) => transport.action('openRun', [id]),
  toggleGroup: (key) => {
    if (collapsed.has(key)) collapsed.delete(key);
    else collapsed.add(key);
    reorder();
    rowsView.render(true);
  },
});

function afterSelection(): void {
  updateButtons();
  updateCount();
  rowsView.render(true);
  drawHeader();
}

function columnIds(): string[] {
  return state.columns ?? defaultColumnIds(rows, state.experimentIds.length > 1);
}

function chooseColumns(): void {
  available = availableColumns(rows, experimentNames);
  columns = resolveColumns(columnIds(), available, state.widths);
  applyWidths();
}

/** Header and rows share one grid template and one width, set as CSS variables on the table. */
function applyWidths(): void {
  scroller.style.setProperty('--cols', [`${LEAD_WIDTH}px`, ...columns.map((c) => `${c.width}px`)].join(' '));
  scroller.style.setProperty('--row-w', `${totalWidth(columns)}px`);
  scroller.style.setProperty('--pin-left', `${LEAD_WIDTH}px`);
}

function drawHeader(): void {
  const n = rows.length === 0 ? 0 : rows.filter((r) => selected.has(r.runId)).length;
  renderHeader(header, {
    columns: () => columns,
    sort: () => state.orderBy?.[0] ?? '',
    onSort: (c) => {
      // Same column: flip the direction; a new column starts high-to-low for numbers, A→Z for text.
      const sort = state.orderBy?.[0] ?? '';
      const desc = sort.startsWith(`${c.orderField} `) ? sort.endsWith('ASC') : c.numeric;
      state.orderBy = [`${c.orderField} ${desc ? 'DESC' : 'ASC'}`];
      prefs.save();
      void load();
    },
    onMove: (id, beforeId) => {
      const ids = columnIds().filter((x) => x !== id);
      const at = ids.indexOf(beforeId);
      ids.splice(at < 0 ? ids.length : at, 0, id);
      state.columns = ids;
      prefs.save();
      redraw();
    },
    onResize: (id, width, done) => {
      state.widths = { ...state.widths, [id]: width };
      columns = resolveColumns(columnIds(), available, state.widths);
      applyWidths();
      if (done) {
        prefs.save();
        drawHeader();
      }
    },
    selection: () => (n === 0 ? 'none' : n === rows.length ? 'all' : 'some'),
    onSelectAll: (on) => {
      for (const r of rows) {
        if (on) selected.add(r.runId);
        else selected.delete(r.runId);
      }
      afterSelection();
    },
  });
}

function drawChooser(): void {
  renderChooser(chooser, available, new Set(columnIds()), (id, on) => {
    const ids = columnIds();
    state.columns = on ? [...ids.filter((x) => x !== id), id] : ids.filter((x) => x !== id);
    prefs.save();
    redraw();
  });
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
  entries = arrange(rows, state.groupBy ?? '', (id) => available.find((c) => c.id === id), collapsed);
  updateCount();
  empty.hidden = rows.length > 0;
  empty.textContent = state.filter ? 'No runs match the filter.' : 'No runs in this experiment yet.';
}

function updateCount(): void {
  status.textContent = `${rows.length.toLocaleString()} run${rows.length === 1 ? '' : 's'}${rows.length >= MAX_ROWS ? '+' : ''}${selected.size ? ` · ${selected.size} selected` : ''}`;
  document.body.dataset.totalRows = String(rows.length);
}

/** Columns, header and visible rows from `rows` and the state. */
function redraw(): void {
  chooseColumns();
  drawHeader();
  reorder();
  renderGroupSelect(groupSelect, discoverKeys(rows).params, state.groupBy ?? '');
  rowsView.render(true);
  if (!chooser.hidden) drawChooser();
}

// --- loading ---------------------------------------------------------------------------------

/** Loads every page (progressively: the first page shows at once), or `keep` rows on a live refresh. */
async function load(keep?: number): Promise<void> {
  const gen = ++generation;
  const t0 = performance.now();
  const whole = !state.filter;
  let token: string | undefined;
  const next: RunRow[] = [];
  filterError.textContent = '';
  // A newer load (another filter, a live refresh) cancels this one's request on the server.
  const signal = transport.supersede('rows');
  try {
    do {
      const page = await transport.call({ kind: 'searchRuns', experimentIds: state.experimentIds, filter: state.filter ?? '', orderBy: state.orderBy ?? [], maxResults: PAGE, ...(token ? { pageToken: token } : {}) }, { signal });
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
    if (whole || !keyRows.whole) {
      keyRows = { rows, whole };
      // ~0.1 s at 50k runs: spend it while nobody types rather than on the next keystroke.
      requestIdleCallback(() => currentFilterKeys());
    }
    redraw();
    document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
    document.body.dataset.loadedAt = String(Date.now());
  } catch (err) {
    if (gen !== generation) return;
    // Cancelled: the table keeps the rows it showed (the busy bar says so).
    if (!isAbortError(err)) filterError.textContent = err instanceof Error ? err.message : String(err);
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
  const [experiments] = await Promise.all([transport.call({ kind: 'experiments', experimentIds: state.experimentIds }), prefs.restore(loaded)]);
  if (state.experimentIds.length > 1) experimentNames = new Map(experiments.map((e) => [e.experimentId, e.name]));
  title.textContent = experiments.length === 1 ? `Runs of ${experiments[0]!.name}` : `Runs of ${experiments.length} experiments`;
  filter.value = state.filter ?? '';
  const views = savedViewsControl({
    views: () => prefs.views,
    save: (name) => prefs.saveView(name),
    apply: (view) => {
      prefs.apply(view);
      filter.value = state.filter ?? '';
      void load();
    },
    remove: (name) => prefs.removeView(name),
  });
  const bar = el('div', { class: 'toolbar' });
  bar.append(filter, groupSelect, chooseBtn, resetBtn, chartsBtn, compareBtn, status);
  const viewsBar = el('div', { class: 'toolbar views-bar' });
  viewsBar.append(views.element);
  app.replaceChildren(title, bar, viewsBar, filterError, chooser, scroller, empty);

  watchFilterInput(filter, filterError, 'runs', () => currentFilterKeys().known);
  attachFilterSuggest(filter, 'runs', () => currentFilterKeys().stats);
  filter.addEventListener('keydown', (e: KeyboardEvent) => {
    if (e.key !== 'Enter') return;
    state.filter = filter.value.trim();
    prefs.save();
    void load();
  });
  groupSelect.addEventListener('change', () => {
    state.groupBy = groupSelect.value;
    collapsed.clear();
    prefs.save();
    reorder();
    rowsView.cursor = -1;
    rowsView.render(true);
  });
  chooseBtn.addEventListener('click', () => {
    chooser.hidden = !chooser.hidden;
    if (!chooser.hidden) drawChooser();
  });
  resetBtn.addEventListener('click', () => {
    delete state.columns;
    delete state.widths;
    prefs.save();
    redraw();
  });
  chartsBtn.addEventListener('click', () => transport.action('openCharts', [...selected]));
  compareBtn.addEventListener('click', () => transport.action(selected.size === 2 ? 'openDiff' : 'compare', [...selected]));
  window.addEventListener('resize', () => rowsView.render(true));

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

function start(): void {
  main().catch((err: unknown) => app.replaceChildren(isAbortError(err) ? cancelledNotice(start) : el('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err))));
}
start();
