/**
 * GenAI evaluation datasets of one or more experiments: the datasets on the left (records, last
 * update, tags); the chosen one on the right with its linked experiments, its inferred schema
 * and its records as a table (inputs, expectations, outputs, source, tags), a page at a time.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { DatasetsViewState, EvalDatasetDetail, EvalDatasetRow, EvalRecordView } from '../../src/ui/protocol';
import { el } from '../dom';
import { tree } from '../jsonTree';
import { createTransport, isAbortError } from '../transport';
import { withBusy } from '../busy';

const transport = withBusy(createTransport());
const state: DatasetsViewState = transport.loadState<DatasetsViewState>({ experimentIds: [] });
const app = document.getElementById('app')!;
const save = (): void => transport.saveState(state);

const title = el('h1', {}, 'Evaluation datasets');
const count = el('span', { class: 'count', id: 'count' });
const toolbar = el('div', { class: 'toolbar' });
toolbar.append(count);
const list = el('div', { class: 'session-list', role: 'listbox', 'aria-label': 'evaluation datasets', id: 'dataset-list' });
const detail = el('section', { class: 'dataset-detail', id: 'dataset-detail', 'aria-label': 'dataset' });
const layout = el('div', { class: 'sessions' });
layout.append(list, detail);
const failure = el('div', { class: 'error', role: 'alert', hidden: '' });
app.append(title, toolbar, failure, layout);

let records: EvalRecordView[] = [];
let generation = 0;

function showError(err: unknown): void {
  if (isAbortError(err)) return; // cancelled: what the view showed stays (the busy bar says so)
  failure.textContent = err instanceof Error ? err.message : String(err);
  failure.hidden = false;
}

/** A record's JSON part in a cell: strings bare, anything else compact JSON. */
function cellText(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function renderList(rows: EvalDatasetRow[]): void {
  count.textContent = `${rows.length} dataset${rows.length === 1 ? '' : 's'}`;
  if (rows.length === 0) {
    list.replaceChildren(el('p', { class: 'empty' }, 'No evaluation datasets in these experiments yet. Create one with mlflow.genai.datasets.create_dataset(...).'));
    return;
  }
  list.replaceChildren(
    ...rows.map((d) => {
      const item = el('div', { class: `session-item${d.datasetId === state.datasetId ? ' selected' : ''}`, role: 'option', tabindex: '0', 'data-dataset': d.datasetId });
      const meta = [`${d.records ?? 0} record${d.records === 1 ? '' : 's'}`, `updated ${new Date(d.lastUpdateTime).toLocaleString()}`];
      const tags = Object.entries(d.tags).map(([k, v]) => `${k}=${v}`).join(', ');
      item.append(el('div', { class: 'session-id' }, d.name), el('div', { class: 'session-meta' }, meta.join(' · ')));
      if (tags) item.append(el('div', { class: 'session-meta' }, tags));
      const pick = (): void => {
        state.datasetId = d.datasetId;
        save();
        for (const other of list.querySelectorAll('.session-item')) other.classList.toggle('selected', other === item);
        void openDataset();
      };
      item.addEventListener('click', pick);
      item.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') pick();
      });
      return item;
    }),
  );
}

function recordsTable(rows: EvalRecordView[]): HTMLElement {
  const table = el('table', { class: 'preview-table', id: 'records', 'aria-label': 'records' });
  const head = el('tr');
  for (const h of ['Inputs', 'Expectations', 'Outputs', 'Source', 'Tags', 'Updated']) head.append(el('th', {}, h));
  table.append(head);
  for (const r of rows) {
    const tr = el('tr', { 'data-record': r.recordId });
    const tags = Object.fromEntries(Object.entries(r.tags).filter(([k]) => !k.startsWith('mlflow.')));
    const source = r.sourceType ? `${r.sourceType}${r.sourceId ? ` ${r.sourceId}` : ''}` : '';
    for (const text of [cellText(r.inputs), cellText(r.expectations), cellText(r.outputs), source, Object.keys(tags).length ? JSON.stringify(tags) : '', new Date(r.lastUpdateTime).toLocaleString()]) {
      tr.append(el('td', { title: text }, text));
    }
    table.append(tr);
  }
  return table;
}

function renderDetail(d: EvalDatasetDetail, more: () => void): void {
  const kv = el('table', { class: 'kv' });
  const row = (k: string, v: string): void => {
    const tr = el('tr');
    tr.append(el('th', {}, k), el('td', {}, v));
    kv.append(tr);
  };
  row('Dataset id', d.dataset.datasetId);
  row('Records', String(d.dataset.records ?? 0));
  row('Created', `${new Date(d.dataset.createdTime).toLocaleString()}${d.dataset.createdBy ? ` by ${d.dataset.createdBy}` : ''}`);
  row('Last updated', new Date(d.dataset.lastUpdateTime).toLocaleString());
  row('Experiments', d.experiments.map((e) => e.name).join(', ') || '—');
  const tags = Object.entries(d.dataset.tags);
  if (tags.length) row('Tags', tags.map(([k, v]) => `${k}=${v}`).join(', '));
  const parts: HTMLElement[] = [el('h2', {}, d.dataset.name), kv];
  if (d.schema !== undefined) parts.push(tree(d.schema, 'schema', 1));
  parts.push(el('h3', {}, `Records (${records.length}${d.nextPageToken ? '+' : ''})`));
  parts.push(records.length ? recordsTable(records) : el('p', { class: 'empty' }, 'No records yet. Add some with dataset.merge_records(...).'));
  if (d.nextPageToken) {
    const button = el('vscode-button', { id: 'more-records' }, 'Load more records');
    button.addEventListener('click', more);
    parts.push(button);
  }
  detail.replaceChildren(...parts);
}

async function openDataset(pageToken?: string): Promise<void> {
  if (!state.datasetId) {
    detail.replaceChildren(el('p', { class: 'empty' }, 'Pick a dataset to see its records.'));
    return;
  }
  const gen = ++generation;
  document.body.dataset.ready = 'false';
  try {
    // Picking another dataset cancels this one's load.
    const d = await transport.call({ kind: 'evalDataset', datasetId: state.datasetId, ...(pageToken ? { pageToken } : {}) }, { signal: transport.supersede('dataset') });
    if (gen !== generation) return;
    records = pageToken ? [...records, ...d.records] : d.records;
    renderDetail(d, () => void openDataset(d.nextPageToken));
  } catch (err) {
    showError(err);
  }
  // Tests (and screenshots) wait for this: the page shows what it loaded.
  if (gen === generation) document.body.dataset.ready = 'true';
}

async function load(): Promise<void> {
  failure.hidden = true;
  try {
    const rows = await transport.call({ kind: 'evalDatasets', experimentIds: state.experimentIds });
    if (state.datasetId && !rows.some((r) => r.datasetId === state.datasetId)) delete state.datasetId;
    renderList(rows);
    await openDataset();
  } catch (err) {
    showError(err);
  }
  document.body.dataset.ready = 'true';
}

void load();
