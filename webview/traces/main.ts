/**
 * The traces list of one or more experiments: request preview, status, latency, tokens,
 * session, feedback and tags per trace; MLflow's trace filter language with inline errors;
 * server-side sort; virtualised rows; live refresh. The Sessions tab groups traces by session id
 * and reads one session as a conversation, with latency and tokens per turn.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { watchFilterInput } from '../filterDiagnostics';
import { attachFilterSuggest, type FilterTextfield } from '../filterSuggest';
import { keyStatsFrom, type KeyStatsLike } from '../../src/filter/filterSuggest';
import { filterString, type SessionRow, type TraceRow, type TracesViewState } from '../../src/ui/protocol';
import { el } from '../dom';
import { formatLatency } from '../format';
import { createTransport, isAbortError } from '../transport';
import { withBusy } from '../busy';
import { requestText, responseText } from './previewText';

const ROW_H = 26;
const OVERSCAN = 10;
const PAGE = 500;
const MAX_ROWS = 10_000;

interface Column {
  id: string;
  label: string;
  width: number;
  order?: string;
  numeric?: boolean;
  cell(r: TraceRow): string;
}

function feedbackSummary(r: TraceRow): string {
  return r.assessments
    .filter((a) => a.valid && a.kind === 'feedback')
    .map((a) => `${a.name}=${typeof a.value === 'boolean' ? (a.value ? '✓' : '✗') : typeof a.value === 'string' ? a.value : JSON.stringify(a.value)}`)
    .join(' ');
}

const COLUMNS: Column[] = [
  { id: 'request', label: 'Request', width: 320, cell: (r) => requestText(r.requestPreview) },
  { id: 'state', label: 'Status', width: 90, order: 'status', cell: (r) => r.state },
  { id: 'latency', label: 'Latency', width: 80, order: 'execution_time_ms', numeric: true, cell: (r) => formatLatency(r.durationMs) },
  { id: 'tokens', label: 'Tokens', width: 80, order: 'total_tokens', numeric: true, cell: (r) => (r.tokens?.total === undefined ? '' : r.tokens.total.toLocaleString()) },
  { id: 'session', label: 'Session', width: 120, order: 'session_id', cell: (r) => r.sessionId ?? '' },
  { id: 'time', label: 'Time', width: 160, order: 'timestamp_ms', cell: (r) => new Date(r.requestTime).toLocaleString() },
  { id: 'name', label: 'Name', width: 140, order: 'name', cell: (r) => r.name },
  { id: 'response', label: 'Response', width: 240, cell: (r) => responseText(r.responsePreview) },
  { id: 'feedback', label: 'Feedback', width: 160, cell: feedbackSummary },
  { id: 'tags', label: 'Tags', width: 200, cell: (r) => Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(', ') },
];

const transport = withBusy(createTransport());
const state: TracesViewState = { filter: '', orderBy: ['timestamp_ms DESC'], tab: 'traces', ...transport.loadState<TracesViewState>({ experimentIds: [] }) };
let rows: TraceRow[] = [];
let generation = 0;
const app = document.getElementById('app')!;
const save = (): void => transport.saveState(state);

// --- layout ---------------------------------------------------------------------------------

const title = el('h1', {}, 'Traces');
const tabTraces = el('vscode-button', { id: 'tab-traces' }, 'Traces');
const tabSessions = el('vscode-button', { id: 'tab-sessions' }, 'Sessions');
const filter: FilterTextfield = el('vscode-textfield', { id: 'filter', placeholder: "Filter: status = 'ERROR' and span.type = 'LLM' and tag.env = 'prod'", 'aria-label': 'filter traces' });
const filterError = el('div', { class: 'filter-error', role: 'alert' });
const count = el('span', { class: 'count', id: 'count' });
const header = el('div', { class: 'thead', role: 'row' });
const viewport = el('div', { class: 'tbody', role: 'rowgroup' });
const spacer = el('div', { class: 'spacer' });
const empty = el('p', { class: 'empty', hidden: '' });
viewport.append(spacer);
const tracesPane = el('section', { id: 'traces-pane' });
const table = el('div', { class: 'table', role: 'table', 'aria-label': 'traces' });
table.append(header, viewport);
tracesPane.append(table, empty);
const sessionsPane = el('section', { id: 'sessions-pane', class: 'sessions', hidden: '' });
const sessionList = el('div', { class: 'session-list', role: 'listbox', 'aria-label': 'sessions' });
const conversation = el('div', { class: 'conversation', 'aria-label': 'conversation' });
sessionsPane.append(sessionList, conversation);

const toolbar = el('div', { class: 'toolbar' });
const tabs = el('div', { class: 'tabs', role: 'tablist' });
tabs.append(tabTraces, tabSessions);
toolbar.append(tabs, filter, count);
app.append(title, toolbar, filterError, tracesPane, sessionsPane);

const gridTemplate = COLUMNS.map((c) => `${c.width}px`).join(' ');

function renderHeader(): void {
  header.style.gridTemplateColumns = gridTemplate;
  const sort = state.orderBy?.[0] ?? '';
  header.replaceChildren(
    ...COLUMNS.map((c) => {
      const th = el('div', { class: `th ${c.numeric ? 'num' : ''} ${c.order ? 'sortable' : ''}`, role: 'columnheader', 'data-col': c.id });
      const dir = c.order && sort.startsWith(`${c.order} `) ? (sort.endsWith('ASC') ? ' ▲' : ' ▼') : '';
      th.textContent = `${c.label}${dir}`;
      if (dir) th.setAttribute('aria-sort', dir.includes('▲') ? 'ascending' : 'descending');
      if (c.order) {
        th.addEventListener('click', () => {
          const current = sort.startsWith(`${c.order} `);
          const desc = current ? sort.endsWith('ASC') : c.numeric || c.id === 'time';
          state.orderBy = [`${c.order} ${desc ? 'DESC' : 'ASC'}`];
          save();
          void load();
        });
      }
      return th;
    }),
  );
}

function renderRows(): void {
  const top = viewport.scrollTop;
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + viewport.clientHeight) / ROW_H) + OVERSCAN);
  const out: HTMLElement[] = [spacer];
  for (let i = first; i < last; i++) {
    const r = rows[i]!;
    const tr = el('div', { class: `tr trace-row state-${r.state.toLowerCase()}`, role: 'row', 'data-trace': r.traceId, tabindex: '0' });
    tr.style.top = `${i * ROW_H}px`;
    tr.style.gridTemplateColumns = gridTemplate;
    for (const c of COLUMNS) {
      const text = c.cell(r);
      tr.append(el('div', { class: `td ${c.numeric ? 'num' : ''} col-${c.id}`, role: 'cell', title: text }, text));
    }
    tr.addEventListener('click', () => transport.action('openTrace', [], undefined, r.traceId));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') transport.action('openTrace', [], undefined, r.traceId);
    });
    out.push(tr);
  }
  spacer.style.height = `${rows.length * ROW_H}px`;
  viewport.replaceChildren(...out);
}

viewport.addEventListener('scroll', () => requestAnimationFrame(renderRows));

async function load(): Promise<void> {
  const gen = ++generation;
  renderHeader();
  const t0 = performance.now();
  filterError.textContent = '';
  let token: string | undefined;
  let loaded: TraceRow[] = [];
  // A newer load (another filter or order, a live refresh) cancels this one's request.
  const signal = transport.supersede('rows');
  try {
    do {
      const page = await transport.call({ kind: 'searchTraces', experimentIds: state.experimentIds, filter: state.filter ?? '', orderBy: state.orderBy ?? [], maxResults: PAGE, ...(token ? { pageToken: token } : {}) }, { signal });
      if (gen !== generation) return;
      loaded = loaded.concat(page.rows);
      token = page.nextPageToken;
      rows = loaded;
      renderRows();
    } while (token && loaded.length < MAX_ROWS);
  } catch (err) {
    if (gen !== generation) return;
    // Cancelled: the list keeps the rows it had (the busy bar says so).
    if (!isAbortError(err)) {
      filterError.textContent = err instanceof Error ? err.message : String(err);
      rows = [];
      renderRows();
    }
  }
  count.textContent = `${rows.length.toLocaleString()}${token ? '+' : ''} trace${rows.length === 1 ? '' : 's'}`;
  empty.hidden = rows.length > 0;
  empty.textContent = state.filter ? 'No traces match this filter.' : 'No traces yet. Decorate a function with @mlflow.trace, or point an OpenTelemetry exporter at <server>/v1/traces.';
  document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
  document.body.dataset.ready = 'true';
}

// --- sessions -------------------------------------------------------------------------------

async function loadSessions(): Promise<void> {
  try {
    await showSessions();
  } catch (err) {
    // Cancelled: the list shown stays (the busy bar says so).
    if (!isAbortError(err)) sessionList.replaceChildren(el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
  document.body.dataset.ready = 'true';
}

async function showSessions(): Promise<void> {
  const sessions = await transport.call({ kind: 'traceSessions', experimentIds: state.experimentIds }, { signal: transport.supersede('sessions') });
  if (!sessions.some((s) => s.sessionId === state.session)) state.session = sessions[0]?.sessionId;
  sessionList.replaceChildren(
    ...sessions.map((s) => {
      const item = el('div', { class: `session-item ${s.sessionId === state.session ? 'selected' : ''}`, role: 'option', 'data-session': s.sessionId, tabindex: '0' });
      item.append(el('div', { class: 'session-id' }, s.sessionId), el('div', { class: 'session-meta' }, sessionMeta(s)));
      item.addEventListener('click', () => {
        state.session = s.sessionId;
        save();
        void loadSessions();
      });
      return item;
    }),
  );
  if (sessions.length === 0) sessionList.append(el('p', { class: 'empty' }, 'No sessions: traces join one when they carry mlflow.trace.session metadata (mlflow.update_current_trace(metadata={"mlflow.trace.session": id})) or a session.id span attribute.'));
  if (state.session) await loadConversation(state.session);
}

function sessionMeta(s: SessionRow): string {
  const parts = [`${s.traces} turn${s.traces === 1 ? '' : 's'}`, new Date(s.lastTime).toLocaleString()];
  if (s.totalTokens) parts.push(`${s.totalTokens.toLocaleString()} tokens`);
  if (s.errors) parts.push(`${s.errors} error${s.errors === 1 ? '' : 's'}`);
  if (s.userId) parts.push(s.userId);
  return parts.join(' · ');
}

async function loadConversation(sessionId: string): Promise<void> {
  const page = await transport.call({ kind: 'searchTraces', experimentIds: state.experimentIds, filter: `session_id = ${filterString(sessionId)}`, orderBy: ['timestamp_ms ASC'], maxResults: 500 }, { signal: transport.supersede('conversation') });
  const turns = page.rows;
  const total = turns.reduce((n, t) => n + (t.tokens?.total ?? 0), 0);
  const head = el('header', { class: 'conv-head' });
  head.append(el('h2', {}, `Session ${sessionId}`), el('span', { class: 'count' }, `${turns.length} turns · ${total.toLocaleString()} tokens`));
  const list = el('ol', { class: 'turns' });
  turns.forEach((t, i) => {
    const li = el('li', { class: `turn state-${t.state.toLowerCase()}`, 'data-trace': t.traceId });
    const user = el('div', { class: 'bubble user' });
    user.append(el('span', { class: 'role' }, t.userId ?? 'user'), el('div', { class: 'text' }, requestText(t.requestPreview)));
    const bot = el('div', { class: 'bubble assistant' });
    bot.append(el('span', { class: 'role' }, t.name), el('div', { class: 'text' }, t.state === 'ERROR' && !t.responsePreview ? '⚠ failed' : responseText(t.responsePreview)));
    const meta = el('div', { class: 'turn-meta' });
    const latency = formatLatency(t.durationMs);
    meta.append(`Turn ${i + 1} · ${new Date(t.requestTime).toLocaleTimeString()} · ${latency}${t.tokens?.total ? ` · ${t.tokens.total.toLocaleString()} tokens` : ''}${t.state === 'ERROR' ? ' · ERROR' : ''} · `);
    const open = el('a', { href: '#', class: 'run-link' }, 'open trace');
    open.addEventListener('click', (e) => {
      e.preventDefault();
      transport.action('openTrace', [], undefined, t.traceId);
    });
    const feedback = feedbackSummary(t);
    meta.append(open, feedback ? ` · ${feedback}` : '');
    li.append(user, bot, meta);
    list.append(li);
  });
  conversation.replaceChildren(head, list);
}

// --- wiring ---------------------------------------------------------------------------------

function showTab(): void {
  const sessions = state.tab === 'sessions';
  tracesPane.hidden = sessions;
  sessionsPane.hidden = !sessions;
  filter.hidden = sessions;
  count.hidden = sessions;
  tabTraces.toggleAttribute('secondary', sessions);
  tabSessions.toggleAttribute('secondary', !sessions);
  document.body.dataset.ready = 'false';
  void (sessions ? loadSessions() : load());
}

tabTraces.addEventListener('click', () => {
  state.tab = 'traces';
  save();
  showTab();
});
tabSessions.addEventListener('click', () => {
  state.tab = 'sessions';
  save();
  showTab();
});
filter.value = state.filter ?? '';
watchFilterInput(filter, filterError, 'traces');
// Tag keys and values of the loaded traces (user tags: rows leave mlflow.* out), worked out when
// the box first asks after a load. Not used to warn about keys: the rows are the filter's matches.
let tagStats: { from: TraceRow[]; stats: KeyStatsLike } | undefined;
attachFilterSuggest(filter, 'traces', () => {
  if (tagStats?.from !== rows) tagStats = { from: rows, stats: keyStatsFrom(rows.map((r) => ({ tag: r.tags }))) };
  return tagStats.stats;
});
filter.addEventListener('keydown', (e) => {
  if ((e as KeyboardEvent).key !== 'Enter') return;
  state.filter = filter.value.trim();
  save();
  void load();
});

transport
  .call({ kind: 'experiments', experimentIds: state.experimentIds })
  .then((exps) => {
    if (exps.length) title.textContent = `Traces — ${exps.map((e) => e.name).join(', ')}`;
  })
  .catch(() => undefined);

let refresh: ReturnType<typeof setTimeout> | undefined;
transport.onPush((p) => {
  if (p.kind !== 'traceChanged' || !state.experimentIds.includes(p.experimentId)) return;
  clearTimeout(refresh);
  refresh = setTimeout(() => void (state.tab === 'sessions' ? loadSessions() : load()), 300);
});

showTab();
