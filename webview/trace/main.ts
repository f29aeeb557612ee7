/**
 * The trace viewer: span tree with type badges and a waterfall timeline on the same rows (so
 * they always line up), virtualised for traces with thousands of spans; span details (chat,
 * inputs, outputs, exceptions with stack, events, attributes, tokens, estimated cost); search
 * within the trace; assessments, and human feedback (thumbs, rating, comment) stored as MLflow
 * assessments the client reads back.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { AssessmentView, FeedbackValue, SpanView, TraceDetail, TraceViewState } from '../../src/ui/protocol';
import { el } from '../dom';
import { formatDuration } from '../format';
import { tree as jsonTree } from '../jsonTree';
import { createTransport, isAbortError } from '../transport';
import { withBusy } from '../busy';
import { tracebackPre } from '../tracebackText';
import { estimateCost, formatCost } from '../../src/domain/pricing';
import { buildTree, flatten, reveal, searchSpans, type FlatRow, type SpanTree } from './spanTree';

const ROW_H = 24;
const OVERSCAN = 12;
const TYPE_LABELS: Record<string, string> = {
  LLM: 'LLM',
  CHAT_MODEL: 'CHAT',
  CHAIN: 'CHAIN',
  AGENT: 'AGENT',
  TOOL: 'TOOL',
  RETRIEVER: 'RETR',
  RERANKER: 'RANK',
  PARSER: 'PARSE',
  EMBEDDING: 'EMB',
  MEMORY: 'MEM',
  FUNCTION: 'FUNC',
  GUARDRAIL: 'GUARD',
  EVALUATOR: 'EVAL',
  UNKNOWN: 'SPAN',
};

const transport = withBusy(createTransport());
const state: TraceViewState = { ...transport.loadState<TraceViewState>({ traceId: '' }) };
const app = document.getElementById('app')!;
const save = (): void => transport.saveState(state);

let detail: TraceDetail | undefined;
let spanTree: SpanTree | undefined;
let rows: FlatRow[] = [];
const collapsed = new Set<string>();
let matches = new Set<string>();
let matchOrder: string[] = [];

function ms(us: number): string {
  const v = us / 1000;
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  return formatDuration(v);
}

function badge(type: string): HTMLElement {
  const t = type.toUpperCase();
  return el('span', { class: `span-type type-${t.toLowerCase()}`, title: t }, TYPE_LABELS[t] ?? t.slice(0, 5));
}

function valueText(v: unknown): string {
  if (typeof v === 'boolean') return v ? '✓ yes' : '✗ no';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// --- layout ---------------------------------------------------------------------------------

const head = el('header', { class: 'trace-head' });
const feedbackBar = el('section', { class: 'feedback-bar', 'aria-label': 'feedback' });
const search = el('vscode-textfield', { id: 'search', placeholder: 'Search spans: name, type, inputs, outputs, attributes…', 'aria-label': 'search within trace' }) as HTMLElement & { value: string };
const matchCount = el('span', { class: 'count', id: 'matches' });
const prevBtn = el('vscode-button', { secondary: '', id: 'prev-match', title: 'Previous match' }, '▲');
const nextBtn = el('vscode-button', { secondary: '', id: 'next-match', title: 'Next match' }, '▼');
const expandBtn = el('vscode-button', { secondary: '', id: 'expand-all' }, 'Expand all');
const collapseBtn = el('vscode-button', { secondary: '', id: 'collapse-all' }, 'Collapse all');
const toolbar = el('div', { class: 'toolbar' });
toolbar.append(search, matchCount, prevBtn, nextBtn, expandBtn, collapseBtn);
const split = el('div', { class: 'trace-split' });
const left = el('div', { class: 'span-pane' });
const axis = el('div', { class: 'span-axis' });
const viewport = el('div', { class: 'span-rows', role: 'tree', 'aria-label': 'spans' });
const spacer = el('div', { class: 'spacer' });
viewport.append(spacer);
left.append(axis, viewport);
const details = el('aside', { class: 'span-details', 'aria-label': 'span details' });
split.append(left, details);
const errorBox = el('div', { class: 'error', role: 'alert', hidden: '' });
app.append(head, feedbackBar, toolbar, split, errorBox);

// --- header and feedback --------------------------------------------------------------------

function totalCost(spans: SpanView[]): { usd: number; costed: number } {
  let usd = 0;
  let costed = 0;
  for (const s of spans) {
    const c = estimateCost(s.model, s.tokens);
    if (c !== undefined) {
      usd += c;
      costed++;
    }
  }
  return { usd, costed };
}

function renderHead(d: TraceDetail): void {
  const r = d.row;
  const title = el('h1', {});
  title.append(r.name, ' ', el('span', { class: `status state-${r.state.toLowerCase()}` }, r.state));
  const meta: string[] = [new Date(r.requestTime).toLocaleString()];
  if (r.durationMs !== undefined) meta.push(ms(r.durationMs * 1000));
  meta.push(`${d.spans.length.toLocaleString()} spans`);
  const tokens = r.tokens ?? d.spans.reduce<{ input: number; output: number; total: number } | undefined>((acc, s) => {
    if (!s.tokens) return acc;
    const a = acc ?? { input: 0, output: 0, total: 0 };
    return { input: a.input + (s.tokens.input ?? 0), output: a.output + (s.tokens.output ?? 0), total: a.total + (s.tokens.total ?? 0) };
  }, undefined);
  if (tokens?.total !== undefined) meta.push(`${tokens.total.toLocaleString()} tokens (${(tokens.input ?? 0).toLocaleString()} in / ${(tokens.output ?? 0).toLocaleString()} out)`);
  const cost = totalCost(d.spans);
  if (cost.costed > 0) meta.push(`≈ ${formatCost(cost.usd)} estimated`);
  if (r.sessionId) meta.push(`session ${r.sessionId}`);
  const line = el('div', { class: 'trace-meta', id: 'trace-meta' }, meta.join(' · '));
  const id = el('div', { class: 'trace-id' }, r.traceId);
  if (r.runId) {
    const link = el('a', { href: '#', class: 'run-link' }, ` run ${r.runId.slice(0, 8)}`);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      transport.action('openRun', [r.runId!]);
    });
    id.append(' ·', link);
  }
  head.replaceChildren(title, line, id);
  if (d.spansError) head.append(el('div', { class: 'error', id: 'spans-error' }, `Some spans of this trace could not be read: ${d.spansError}`));
}

function assessmentChip(a: AssessmentView): HTMLElement {
  const chip = el('span', { class: `assessment ${a.valid ? '' : 'overridden'} kind-${a.kind}`, title: [a.rationale, `${a.sourceType}${a.sourceId ? ` · ${a.sourceId}` : ''}`, a.error].filter(Boolean).join('\n') });
  chip.append(el('b', {}, a.name), ` ${valueText(a.value)}`);
  if (a.rationale) chip.append(el('span', { class: 'rationale' }, ` — ${a.rationale}`));
  return chip;
}

function renderFeedback(d: TraceDetail): void {
  const list = el('div', { class: 'assessments', id: 'trace-assessments' });
  const rootId = d.spans.find((s) => s.parentId === null)?.spanId;
  const own = d.row.assessments.filter((a) => !a.spanId || a.spanId === rootId);
  if (own.length === 0) list.append(el('span', { class: 'empty' }, 'No feedback yet.'));
  for (const a of own) list.append(assessmentChip(a));

  const form = el('form', { class: 'feedback-form', id: 'feedback-form' });
  let thumbs: boolean | undefined;
  const up = el('button', { type: 'button', class: 'thumb', id: 'thumb-up', 'aria-pressed': 'false', title: 'Thumbs up' }, '✓ Good');
  const down = el('button', { type: 'button', class: 'thumb', id: 'thumb-down', 'aria-pressed': 'false', title: 'Thumbs down' }, '✗ Bad');
  const pick = (v: boolean): void => {
    thumbs = thumbs === v ? undefined : v;
    up.setAttribute('aria-pressed', String(thumbs === true));
    down.setAttribute('aria-pressed', String(thumbs === false));
  };
  up.addEventListener('click', () => pick(true));
  down.addEventListener('click', () => pick(false));
  const rating = el('select', { id: 'rating', 'aria-label': 'rating' });
  rating.append(el('option', { value: '' }, 'Rating…'), ...[1, 2, 3, 4, 5].map((n) => el('option', { value: String(n) }, '★'.repeat(n))));
  const comment = el('input', { id: 'comment', type: 'text', placeholder: 'Comment (optional)', 'aria-label': 'comment' });
  const aboutSpan = el('input', { id: 'about-span', type: 'checkbox' });
  const aboutLabel = el('label', {});
  aboutLabel.append(aboutSpan, ' about the selected span');
  const submit = el('vscode-button', { id: 'submit-feedback' }, 'Add feedback');
  const note = el('span', { class: 'count', role: 'status', id: 'feedback-status' });
  submit.addEventListener('click', () => {
    const text = comment.value.trim();
    const entries: { name: string; value: FeedbackValue }[] = [];
    if (thumbs !== undefined) entries.push({ name: 'user_feedback', value: thumbs });
    if (rating.value) entries.push({ name: 'rating', value: Number(rating.value) });
    if (entries.length === 0 && text) entries.push({ name: 'comment', value: text });
    if (entries.length === 0) {
      note.textContent = 'Pick Good/Bad, a rating or write a comment first.';
      return;
    }
    const spanId = aboutSpan.checked && state.span ? state.span : undefined;
    note.textContent = 'Saving…';
    void Promise.all(entries.map((e) => transport.call({ kind: 'logFeedback', traceId: state.traceId, name: e.name, value: e.value, ...(text ? { rationale: text } : {}), ...(spanId ? { spanId } : {}) })))
      .then(() => load())
      .then(() => {
        const status = document.getElementById('feedback-status');
        if (status) status.textContent = 'Saved.';
      })
      .catch((err: unknown) => {
        note.textContent = err instanceof Error ? err.message : String(err);
      });
  });
  form.append(up, down, rating, comment, aboutLabel, submit, note);
  feedbackBar.replaceChildren(el('h2', {}, 'Feedback'), list, form);
}

// --- span rows ------------------------------------------------------------------------------

function renderAxis(t: SpanTree): void {
  const total = Math.max(1, t.end - t.start);
  const ticks = el('div', { class: 'axis-ticks' });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const tick = el('span', { class: 'tick' }, ms(total * f));
    tick.style.left = `${f * 100}%`;
    ticks.append(tick);
  }
  axis.replaceChildren(el('div', { class: 'axis-label' }, 'Span'), ticks);
}

function renderRows(): void {
  if (!spanTree) return;
  const t = spanTree;
  const total = Math.max(1, t.end - t.start);
  const top = viewport.scrollTop;
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + (viewport.clientHeight || 600)) / ROW_H) + OVERSCAN);
  const out: HTMLElement[] = [spacer];
  for (let i = first; i < last; i++) {
    const { span, depth, hasChildren } = rows[i]!;
    const row = el('div', {
      class: `span-row status-${span.status.toLowerCase()} ${span.spanId === state.span ? 'selected' : ''} ${matches.size && !matches.has(span.spanId) ? 'dim' : ''} ${matches.has(span.spanId) ? 'match' : ''}`,
      role: 'treeitem',
      'aria-level': String(depth + 1),
      'data-span': span.spanId,
      tabindex: '-1',
    });
    row.style.top = `${i * ROW_H}px`;
    const name = el('div', { class: 'span-name' });
    name.style.paddingLeft = `${4 + depth * 14}px`;
    const caret = el('span', { class: 'caret' }, hasChildren ? (collapsed.has(span.spanId) ? '▸' : '▾') : '');
    if (hasChildren) {
      row.setAttribute('aria-expanded', String(!collapsed.has(span.spanId)));
      caret.addEventListener('click', (e) => {
        e.stopPropagation();
        if (collapsed.has(span.spanId)) collapsed.delete(span.spanId);
        else collapsed.add(span.spanId);
        relayout();
      });
    }
    name.append(caret, badge(span.type), el('span', { class: 'label', title: span.name }, span.name));
    if (span.status === 'ERROR') name.append(el('span', { class: 'err-dot', title: span.statusMessage ?? 'error' }, '●'));
    const lane = el('div', { class: 'span-lane' });
    const end = span.endUs ?? t.end;
    const bar = el('div', { class: `bar type-${span.type.toLowerCase()}` });
    bar.style.left = `${((span.startUs - t.start) / total) * 100}%`;
    bar.style.width = `max(2px, ${((end - span.startUs) / total) * 100}%)`;
    lane.append(bar, el('span', { class: 'dur' }, span.endUs === null ? 'running' : ms(end - span.startUs)));
    row.append(name, lane);
    row.addEventListener('click', () => select(span.spanId));
    out.push(row);
  }
  spacer.style.height = `${rows.length * ROW_H}px`;
  viewport.replaceChildren(...out);
}

function relayout(): void {
  if (!spanTree) return;
  rows = flatten(spanTree, collapsed);
  renderRows();
}

viewport.addEventListener('scroll', () => requestAnimationFrame(renderRows));
viewport.addEventListener('keydown', (e) => {
  const i = rows.findIndex((r) => r.span.spanId === state.span);
  if (e.key === 'ArrowDown' && i < rows.length - 1) select(rows[i + 1]!.span.spanId, true);
  else if (e.key === 'ArrowUp' && i > 0) select(rows[i - 1]!.span.spanId, true);
  else return;
  e.preventDefault();
});
viewport.tabIndex = 0;

function scrollTo(spanId: string): void {
  const i = rows.findIndex((r) => r.span.spanId === spanId);
  if (i < 0) return;
  const y = i * ROW_H;
  if (y < viewport.scrollTop || y > viewport.scrollTop + viewport.clientHeight - ROW_H) viewport.scrollTop = Math.max(0, y - viewport.clientHeight / 3);
}

function select(spanId: string, scroll = false): void {
  state.span = spanId;
  save();
  if (scroll) scrollTo(spanId);
  renderRows();
  renderDetails();
}

// --- details --------------------------------------------------------------------------------

function section(title: string, body: Node): HTMLElement {
  const s = el('section', { class: 'detail-section' });
  s.append(el('h3', {}, title), body);
  return s;
}

function valueBlock(v: unknown): Node {
  if (typeof v === 'string') return el('pre', { class: 'value-text' }, v);
  if (v !== null && typeof v === 'object') return jsonTree(v, '', 0);
  return el('pre', { class: 'value-text' }, JSON.stringify(v));
}

function renderDetails(): void {
  const span = state.span ? spanTree?.byId.get(state.span) : undefined;
  if (!span || !detail || !spanTree) {
    details.replaceChildren(el('p', { class: 'empty' }, 'Select a span to see its inputs, outputs and attributes.'));
    return;
  }
  const parts: Node[] = [];
  const h = el('h2', { id: 'span-title' });
  h.append(badge(span.type), ' ', span.name, ' ', el('span', { class: `status state-${span.status.toLowerCase()}` }, span.status));
  parts.push(h);
  const facts = el('table', { class: 'kv', id: 'span-facts' });
  const fact = (k: string, v: string | undefined): void => {
    if (!v) return;
    const tr = el('tr');
    tr.append(el('th', {}, k), el('td', {}, v));
    facts.append(tr);
  };
  fact('Started', `+${ms(span.startUs - spanTree.start)}`);
  fact('Duration', span.endUs === null ? 'still running' : ms(span.endUs - span.startUs));
  fact('Span id', span.spanId);
  fact('Model', span.model);
  if (span.tokens) fact('Tokens', `${(span.tokens.total ?? 0).toLocaleString()} (${(span.tokens.input ?? 0).toLocaleString()} in / ${(span.tokens.output ?? 0).toLocaleString()} out)`);
  const cost = estimateCost(span.model, span.tokens);
  if (cost !== undefined) fact('Cost (estimated)', formatCost(cost));
  if (span.statusMessage) fact('Status message', span.statusMessage);
  parts.push(facts);

  for (const ex of span.events.filter((e) => e.name === 'exception')) {
    const box = el('div', { class: 'exception', role: 'alert' });
    box.append(el('b', {}, `${String(ex.attributes['exception.type'] ?? 'Exception')}: ${String(ex.attributes['exception.message'] ?? '')}`));
    if (ex.attributes['exception.stacktrace']) box.append(tracebackPre(String(ex.attributes['exception.stacktrace']), transport, 'stack'));
    parts.push(section('Exception', box));
  }
  if (span.messages?.length) {
    const chat = el('div', { class: 'chat', id: 'span-chat' });
    for (const m of span.messages) {
      const b = el('div', { class: `bubble ${m.role === 'user' ? 'user' : m.role === 'assistant' ? 'assistant' : 'system'}` });
      b.append(el('span', { class: 'role' }, m.name ? `${m.role} (${m.name})` : m.role), el('div', { class: 'text' }, m.content));
      for (const call of m.toolCalls ?? []) b.append(el('code', { class: 'tool-call' }, call));
      chat.append(b);
    }
    parts.push(section('Chat', chat));
  }
  if (span.inputs !== undefined) parts.push(section('Inputs', valueBlock(span.inputs)));
  if (span.outputs !== undefined) parts.push(section('Outputs', valueBlock(span.outputs)));
  const others = span.events.filter((e) => e.name !== 'exception');
  if (others.length) {
    const list = el('ul', { class: 'events' });
    for (const e of others) {
      const li = el('li', {});
      li.append(el('b', {}, e.name), ` +${ms(e.timeUs - spanTree.start)}`);
      if (Object.keys(e.attributes).length) li.append(jsonTree(e.attributes, 'attributes', 2));
      list.append(li);
    }
    parts.push(section('Events', list));
  }
  const attrs = Object.entries(span.attributes).filter(([k]) => !k.startsWith('mlflow.') || k === 'mlflow.spanFunctionName');
  if (attrs.length) {
    const t = el('table', { class: 'kv attributes' });
    for (const [k, v] of attrs) {
      const tr = el('tr');
      tr.append(el('th', {}, k), el('td', {}, typeof v === 'string' ? v : JSON.stringify(v)));
      t.append(tr);
    }
    parts.push(section('Attributes', t));
  }
  const spanAssessments = detail.row.assessments.filter((a) => a.spanId === span.spanId);
  if (spanAssessments.length) {
    const list = el('div', { class: 'assessments' });
    for (const a of spanAssessments) list.append(assessmentChip(a));
    parts.push(section('Assessments', list));
  }
  details.replaceChildren(...parts);
}

// --- search ---------------------------------------------------------------------------------

function runSearch(): void {
  if (!spanTree) return;
  state.search = search.value;
  save();
  matches = searchSpans(spanTree, search.value);
  for (const id of matches) reveal(spanTree, collapsed, id);
  rows = flatten(spanTree, collapsed);
  matchOrder = rows.filter((r) => matches.has(r.span.spanId)).map((r) => r.span.spanId);
  matchCount.textContent = search.value.trim() ? `${matches.size} match${matches.size === 1 ? '' : 'es'}` : '';
  if (matchOrder[0]) select(matchOrder[0], true);
  else renderRows();
}

function step(dir: 1 | -1): void {
  if (matchOrder.length === 0) return;
  const i = matchOrder.indexOf(state.span ?? '');
  const next = matchOrder[(i + dir + matchOrder.length) % matchOrder.length]!;
  select(next, true);
}

search.addEventListener('keydown', (e) => {
  if ((e as KeyboardEvent).key === 'Enter') {
    if (search.value === (state.search ?? '') && matchOrder.length) step((e as KeyboardEvent).shiftKey ? -1 : 1);
    else runSearch();
  }
});
search.addEventListener('input', () => {
  if (!search.value) runSearch();
});
prevBtn.addEventListener('click', () => step(-1));
nextBtn.addEventListener('click', () => step(1));
expandBtn.addEventListener('click', () => {
  collapsed.clear();
  relayout();
});
collapseBtn.addEventListener('click', () => {
  if (!spanTree) return;
  for (const [id] of spanTree.children) collapsed.add(id);
  relayout();
});

// --- load -----------------------------------------------------------------------------------

async function load(): Promise<void> {
  const t0 = performance.now();
  try {
    detail = await transport.call({ kind: 'traceDetail', traceId: state.traceId }, { signal: transport.supersede('detail') });
  } catch (err) {
    // Cancelled: the trace shown stays; with none yet the box says so (a change push loads it again).
    if (isAbortError(err) && detail) return;
    errorBox.hidden = false;
    errorBox.textContent = err instanceof Error ? err.message : String(err);
    document.body.dataset.ready = 'true';
    return;
  }
  errorBox.hidden = true;
  document.title = `Trace ${detail.row.name}`;
  spanTree = buildTree(detail.spans);
  if (!state.span || !spanTree.byId.has(state.span)) state.span = spanTree.roots[0]?.spanId;
  renderHead(detail);
  renderFeedback(detail);
  renderAxis(spanTree);
  rows = flatten(spanTree, collapsed);
  if (state.search) {
    search.value = state.search;
    runSearch();
  } else {
    renderRows();
    renderDetails();
  }
  document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
  document.body.dataset.ready = 'true';
}

let refresh: ReturnType<typeof setTimeout> | undefined;
transport.onPush((p) => {
  if (p.kind !== 'traceChanged' || p.traceId !== state.traceId) return;
  clearTimeout(refresh);
  refresh = setTimeout(() => void load(), 300);
});

void load();
