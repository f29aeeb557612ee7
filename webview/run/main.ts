/**
 * The run page: overview (status, duration, source, git commit, parent and children), params,
 * latest metrics with sparklines, tags, an editable Markdown note, dataset inputs (source, schema,
 * profile), a gallery of images logged per step, and an artifact browser with previews and
 * "Open in Editor". Live while the run logs.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { runTracesFilter, type ArtifactEntry, type RunDetail, type RunPageState } from '../../src/ui/protocol';
import { el } from '../dom';
import { formatDuration, formatUsd, formatValue, rowDurationMs } from '../format';
import { createTransport, isAbortError } from '../transport';
import { cancelledNotice, withBusy } from '../busy';
import { withCache } from '../viewCache';
import { modelsSection } from './models';
import { renderMarkdown, renderPreview } from './previews';
import { datasetInputs } from './datasetInputs';
import { imageGallery } from '../imageGallery';
import { tracebackPre } from '../tracebackText';

// A re-render (the note editor opened or closed) reuses the sparklines, artifacts and previews it had.
const transport = withBusy(withCache(createTransport(), ['series', 'artifacts', 'artifact', 'traceCount', 'runCost', 'runModels']));
const state: RunPageState = transport.loadState<RunPageState>({ runId: '' });
const app = document.getElementById('app')!;
let detail: RunDetail | undefined;
let noteEditing = false;
const SVG = 'http://www.w3.org/2000/svg';

function save(): void {
  transport.saveState(state);
}

function kv(rows: [string, string | Node][], cls = ''): HTMLElement {
  const t = el('table', { class: `kv ${cls}` });
  for (const [k, v] of rows) {
    const tr = el('tr');
    const td = el('td');
    td.append(v);
    tr.append(el('th', {}, k), td);
    t.append(tr);
  }
  return t;
}

function runLink(runId: string, name: string): HTMLElement {
  const a = el('a', { href: '#', class: 'run-link' }, name);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    if (transport.inVsCode) transport.action('openRun', [runId]);
    else {
      state.runId = runId;
      state.artifact = '';
      save();
      void load();
    }
  });
  return a;
}

/** A 120×24 sparkline of a metric's history (server-downsampled to 60 points). */
async function sparkline(key: string): Promise<SVGSVGElement> {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 120 24');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('data-key', key);
  const s = await transport.call({ kind: 'series', runId: state.runId, key, axis: 'step', buckets: 60 });
  const pts = s.points.filter((p) => Number.isFinite(p.value));
  if (pts.length >= 2) {
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.value);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts.map((p) => `${(((p.x - x0) / (x1 - x0 || 1)) * 118 + 1).toFixed(1)},${(23 - ((p.value - y0) / (y1 - y0 || 1)) * 22).toFixed(1)}`).join(' '));
    svg.append(line);
  }
  svg.setAttribute('data-points', String(pts.length));
  return svg;
}

function noteSection(d: RunDetail): HTMLElement {
  const box = el('section', { class: 'note-box' });
  box.append(el('h2', {}, 'Note'));
  if (!noteEditing) {
    box.append(d.note ? renderMarkdown(d.note) : el('p', { class: 'empty' }, 'No note yet.'));
    const edit = el('vscode-button', { secondary: '', id: 'edit-note' }, d.note ? 'Edit note' : 'Add a note');
    edit.addEventListener('click', () => {
      noteEditing = true;
      render();
    });
    box.append(edit);
    return box;
  }
  const area = el('textarea', { id: 'note-text', rows: '8', 'aria-label': 'note (Markdown)' });
  area.value = d.note ?? '';
  const saveBtn = el('vscode-button', { id: 'save-note' }, 'Save');
  const cancel = el('vscode-button', { secondary: '' }, 'Cancel');
  saveBtn.addEventListener('click', () => {
    void transport.call({ kind: 'setNote', runId: d.runId, note: area.value }).then(() => {
      noteEditing = false;
      void load();
    });
  });
  cancel.addEventListener('click', () => {
    noteEditing = false;
    render();
  });
  box.append(area, el('div', { class: 'buttons' }), saveBtn, cancel);
  return box;
}

async function artifactList(dir: string | undefined, into: HTMLElement, depth = 0): Promise<void> {
  const entries: ArtifactEntry[] = await transport.call({ kind: 'artifacts', runId: state.runId, ...(dir ? { path: dir } : {}) });
  if (entries.length === 0 && depth === 0) into.append(el('p', { class: 'empty' }, 'No artifacts.'));
  for (const e of entries.sort((a, b) => Number(b.isDir) - Number(a.isDir) || a.path.localeCompare(b.path))) {
    const name = e.path.split('/').pop() ?? e.path;
    if (e.isDir) {
      const d = el('details', { class: 'art-dir' });
      const summary = el('summary', {}, `${name}/`);
      d.append(summary);
      d.addEventListener('toggle', () => {
        if (d.open && d.childElementCount === 1) void artifactList(e.path, d, depth + 1);
      }, { once: false });
      into.append(d);
      if (state.artifact?.startsWith(`${e.path}/`)) d.open = true;
      continue;
    }
    const item = el('div', { class: `art-file${state.artifact === e.path ? ' active' : ''}`, 'data-path': e.path });
    const a = el('a', { href: '#' }, name);
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      state.artifact = e.path;
      save();
      for (const f of app.querySelectorAll('.art-file')) f.classList.toggle('active', (f as HTMLElement).dataset.path === e.path);
      void showArtifact();
    });
    item.append(a, el('span', { class: 'size' }, e.size !== undefined ? `${e.size.toLocaleString()} B` : ''));
    into.append(item);
  }
}

async function showArtifact(): Promise<void> {
  const pane = app.querySelector<HTMLElement>('.art-preview');
  if (!pane || !state.artifact) return;
  const path = state.artifact;
  pane.replaceChildren(el('p', { class: 'note' }, `Loading ${path}…`));
  try {
    // Picking another artifact cancels this one's download.
    const preview = await transport.call({ kind: 'artifact', runId: state.runId, path }, { signal: transport.supersede('artifact') });
    const head = el('div', { class: 'art-head' });
    head.append(el('strong', {}, path));
    if (preview.kind === 'text') {
      const open = el('vscode-button', { secondary: '', id: 'open-in-editor' }, transport.inVsCode ? 'Open in Editor' : 'Open raw');
      open.addEventListener('click', () => transport.action('openArtifact', [state.runId], path));
      head.append(open);
    }
    pane.replaceChildren(head, renderPreview(path, preview, (text) => tracebackPre(text, transport, 'text')));
  } catch (err) {
    if (isAbortError(err)) {
      // A newer pick already shows its own loading line; a Cancel leaves this one.
      if (state.artifact === path) pane.replaceChildren(el('p', { class: 'note' }, `Preview of ${path} cancelled.`));
      return;
    }
    pane.replaceChildren(el('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
  }
}

/** The run's cost (its children included) and genops.* attribution, when the server governs its store. */
function costSection(runId: string): HTMLElement {
  const slot = el('section', { id: 'run-cost', hidden: '' });
  void transport
    .call({ kind: 'runCost', runId })
    .then((c) => {
      if (!c) return;
      const cost = el('span', { class: 'num', title: c.cost }, formatUsd(c.usd));
      const rows: [string, string | Node][] = [['Cost', cost]];
      if (detail?.children.length) rows[0]![0] = 'Cost (with children)';
      for (const [k, v] of Object.entries(c.attribution).sort(([a], [b]) => a.localeCompare(b))) rows.push([k, v]);
      slot.replaceChildren(el('h2', {}, 'Cost and attribution'), kv(rows, 'governance'));
      slot.hidden = false;
    })
    .catch(() => undefined) // a server without governance routes: no section
    .finally(() => (document.body.dataset.costReady = 'true'));
  return slot;
}

function render(): void {
  const d = detail;
  if (!d) return;
  const status = el('span', { class: `status status-${d.status.toLowerCase()}` }, d.status + (d.deleted ? ' (deleted)' : ''));
  const header = el('header');
  header.append(el('h1', {}, d.name), status);
  void transport
    .call({ kind: 'traceCount', experimentIds: [d.experimentId], filter: runTracesFilter(d.runId) })
    .then((n) => {
      if (n === 0) return;
      const link = el('a', { href: '#', class: 'run-link', id: 'run-traces' }, `${n.toLocaleString()} trace${n === 1 ? '' : 's'} ›`);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        transport.action('openRunTraces', [d.runId]);
      });
      header.append(link);
    })
    .catch(() => undefined); // servers without trace counts: no link
  const overview: [string, string | Node][] = [
    ['Run ID', d.runId],
    ['Experiment', d.experimentName],
    ['Started', d.startTime ? new Date(d.startTime).toLocaleString() : ''],
    ['Duration', formatDuration(rowDurationMs(d) ?? Number.NaN)],
    ['User', d.user ?? ''],
  ];
  if (d.sourceName) overview.push(['Source', d.sourceName]);
  if (d.gitCommit) overview.push(['Git commit', d.gitCommit.slice(0, 12)]);
  if (d.parentRunId) overview.push(['Parent', runLink(d.parentRunId, d.parentName ?? d.parentRunId)]);
  if (d.children.length) {
    const kids = el('span', { class: 'children' });
    d.children.forEach((c, i) => {
      if (i) kids.append(', ');
      kids.append(runLink(c.runId, c.name));
    });
    overview.push([`Children (${d.children.length})`, kids]);
  }
  const charts = el('vscode-button', { secondary: '', id: 'charts' }, 'Metric charts');
  charts.addEventListener('click', () => transport.action('openCharts', [d.runId]));
  const sections = el('div', { class: 'columns' });
  const left = el('div');
  left.append(el('h2', {}, 'Overview'), kv(overview, 'overview'), costSection(d.runId));
  const params = Object.entries(d.params).sort(([a], [b]) => a.localeCompare(b));
  left.append(el('h2', {}, `Parameters (${params.length})`), params.length ? kv(params, 'params') : el('p', { class: 'empty' }, 'None.'));
  const metricKeys = Object.keys(d.metrics).sort();
  const mt = el('table', { class: 'kv metrics' });
  for (const k of metricKeys) {
    const tr = el('tr', { 'data-key': k });
    const spark = el('td', { class: 'spark' });
    void sparkline(k).then((svg) => spark.append(svg)).catch(() => undefined);
    tr.append(el('th', {}, k), el('td', { class: 'num' }, formatValue(d.metrics[k]!)), spark);
    mt.append(tr);
  }
  const metricsHead = el('h2', {}, `Metrics (${metricKeys.length}) `);
  metricsHead.append(charts);
  left.append(metricsHead, metricKeys.length ? mt : el('p', { class: 'empty' }, 'None.'));
  left.append(modelsSection(d.runId, transport));
  const tags = Object.entries(d.tags).sort(([a], [b]) => a.localeCompare(b));
  left.append(el('h2', {}, `Tags (${tags.length})`), tags.length ? kv(tags, 'tags') : el('p', { class: 'empty' }, 'None.'));
  left.append(...datasetInputs(d.inputs));
  left.append(noteSection(d));
  const right = el('div', { class: 'artifacts' });
  const list = el('div', { class: 'art-list' });
  const gallerySlot = el('div', { class: 'gallery-slot' });
  right.append(gallerySlot, el('h2', {}, 'Artifacts'), list, el('div', { class: 'art-preview' }));
  state.imageSteps ??= {};
  void imageGallery(transport, [{ runId: d.runId, label: d.name }], state.imageSteps, save).then((g) => {
    if (g) gallerySlot.replaceChildren(g);
    document.body.dataset.galleryReady = '1';
  });
  sections.append(left, right);
  app.replaceChildren(header, sections);
  artifactList(undefined, list)
    .then(() => {
      document.body.dataset.artifactsListed = '1';
      return showArtifact();
    })
    .catch((err: unknown) => list.append(el('p', { class: isAbortError(err) ? 'note' : 'error' }, isAbortError(err) ? 'Listing cancelled.' : err instanceof Error ? err.message : String(err))));
  document.body.dataset.renderedAt = String(Date.now());
}

async function load(): Promise<void> {
  if (!state.runId) {
    app.replaceChildren(el('div', { class: 'error', role: 'alert' }, 'No run selected.'));
    return;
  }
  try {
    detail = await transport.call({ kind: 'runDetail', runId: state.runId }, { signal: transport.supersede('detail') });
    if (!noteEditing) render();
  } catch (err) {
    // Cancelled: the page shown stays; an empty one offers to load again.
    if (isAbortError(err)) {
      if (!detail) app.replaceChildren(cancelledNotice(() => void load()));
      return;
    }
    app.replaceChildren(el('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
transport.onPush((push) => {
  if (push.kind !== 'runChanged' || push.runId !== state.runId || timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    void load();
  }, 1000);
});
void load();
