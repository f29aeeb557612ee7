/**
 * Metric charts: one chart per metric, one series per run; x = step, wall time or time since the
 * run started; EMA smoothing; log scale; a min/max envelope where the host downsampled; legend
 * click toggles runs; live while runs log. Series arrive downsampled (≤ BUCKETS points each).
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import embed, { type Result } from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { ChartsState, RunSummary, SeriesResult } from '../../src/ui/protocol';
import { el } from '../dom';
import { createTransport } from '../transport';
import { chartSpec, themeColors, type ChartRow } from './chartSpec';
import { ema } from './smoothing';

const BUCKETS = 1500;
const DEFAULT_KEYS = 4;
const transport = createTransport();
const state: Required<ChartsState> = { keys: [], axis: 'step', smoothing: 0, logScale: false, ...transport.loadState<ChartsState>({ runIds: [] }) } as Required<ChartsState>;
let runs: RunSummary[] = [];
const series = new Map<string, SeriesResult>(); // `${runId}\u0000${key}`
const views = new Map<string, Result>();
const app = document.getElementById('app')!;

function save(): void {
  transport.saveState(state);
}

function showError(message: string): void {
  const box = el('div', { class: 'error', role: 'alert' }, message);
  app.replaceChildren(box);
}

async function loadSeries(runIds: string[], keys: string[]): Promise<void> {
  const axis = state.axis === 'step' ? 'step' : 'timestamp';
  const jobs: Promise<void>[] = [];
  for (const runId of runIds) {
    const run = runs.find((r) => r.runId === runId);
    for (const key of keys) {
      if (!run?.metricKeys.includes(key)) continue;
      jobs.push(transport.call({ kind: 'series', runId, key, axis, buckets: BUCKETS }).then((s) => void series.set(`${runId}\u0000${key}`, s)));
    }
  }
  await Promise.all(jobs);
}

function rowsFor(key: string): { rows: ChartRow[]; downsampled: boolean; seriesCount: number } {
  const rows: ChartRow[] = [];
  let downsampled = false;
  let seriesCount = 0;
  for (const run of runs) {
    const s = series.get(`${run.runId}\u0000${key}`);
    if (!s || s.points.length === 0) continue;
    seriesCount++;
    downsampled ||= s.downsampled;
    const values = s.points.map((p) => p.value);
    const shown = ema(values, state.smoothing);
    const origin = state.axis === 'relative' ? (run.startTime ?? s.points[0]!.x) : 0;
    const label = runs.filter((r) => r.name === run.name).length > 1 ? `${run.name} (${run.runId.slice(0, 6)})` : run.name;
    s.points.forEach((p, i) => {
      if (state.logScale && !(shown[i]! > 0)) return;
      rows.push({ run: label, runId: run.runId, x: state.axis === 'relative' ? (p.x - origin) / 1000 : p.x, value: p.value, shown: shown[i]!, min: p.min, max: p.max });
    });
  }
  return { rows, downsampled, seriesCount };
}

async function renderChart(key: string, host: HTMLElement): Promise<void> {
  const { rows, downsampled, seriesCount } = rowsFor(key);
  host.dataset.series = String(seriesCount);
  host.dataset.points = String(rows.length);
  const width = Math.max(320, host.clientWidth - 120);
  const spec = chartSpec({ key, axis: state.axis, logScale: state.logScale, envelope: downsampled, smoothing: state.smoothing > 0, width, colors: themeColors() }, rows);
  views.get(key)?.finalize();
  const result = await embed(host.querySelector<HTMLElement>('.plot')!, spec, {
    actions: false,
    renderer: 'canvas',
    ast: true,
    expr: expressionInterpreter,
    defaultStyle: false,
    tooltip: { theme: 'custom', disableDefaultStyle: true },
  });
  views.set(key, result);
  const note = host.querySelector('.note')!;
  const total = runs.reduce((n, r) => n + (series.get(`${r.runId}\u0000${key}`)?.total ?? 0), 0);
  note.textContent = downsampled ? `${total.toLocaleString()} points, shown as ${rows.length.toLocaleString()} (min/max envelope)` : `${total.toLocaleString()} points`;
  host.dataset.renderedAt = String(Date.now());
}

/** Re-reads one run's series and status, then redraws its charts (live updates). */
async function refreshRun(runId: string): Promise<void> {
  const [summary] = await transport.call({ kind: 'runs', runIds: [runId] });
  if (!summary) return;
  runs = runs.map((r) => (r.runId === runId ? summary : r));
  await loadSeries([runId], state.keys);
  for (const key of state.keys) {
    const host = app.querySelector<HTMLElement>(`.chart[data-key="${CSS.escape(key)}"]`);
    if (host) await renderChart(key, host);
  }
}

function toolbar(allKeys: string[]): HTMLElement {
  const bar = el('div', { class: 'toolbar' });
  const keys = el('fieldset', { class: 'keys' });
  keys.append(el('legend', {}, 'Metrics'));
  for (const key of allKeys) {
    const box = el('vscode-checkbox', { label: key, 'data-metric': key }) as HTMLElement & { checked: boolean };
    box.checked = state.keys.includes(key);
    box.addEventListener('change', () => {
      state.keys = box.checked ? [...state.keys, key].sort() : state.keys.filter((k) => k !== key);
      save();
      void draw();
    });
    keys.append(box);
  }
  const axis = el('vscode-single-select', { 'aria-label': 'x axis', id: 'axis' }) as HTMLElement & { value: string };
  for (const [value, label] of [['step', 'Step'], ['wall', 'Wall time'], ['relative', 'Relative time']] as const) {
    const o = el('vscode-option', { value }, label);
    if (state.axis === value) o.setAttribute('selected', '');
    axis.append(o);
  }
  axis.addEventListener('change', () => {
    state.axis = axis.value as ChartsState['axis'] & string;
    save();
    series.clear();
    void draw();
  });
  const smoothing = el('input', { type: 'range', min: '0', max: '0.99', step: '0.01', id: 'smoothing', 'aria-label': 'smoothing' });
  smoothing.value = String(state.smoothing);
  const smoothingValue = el('span', { class: 'value' }, state.smoothing.toFixed(2));
  smoothing.addEventListener('input', () => {
    state.smoothing = Number(smoothing.value);
    smoothingValue.textContent = state.smoothing.toFixed(2);
  });
  smoothing.addEventListener('change', () => {
    save();
    void draw(false);
  });
  const log = el('vscode-checkbox', { label: 'Log scale', id: 'log' }) as HTMLElement & { checked: boolean };
  log.checked = state.logScale;
  log.addEventListener('change', () => {
    state.logScale = log.checked;
    save();
    void draw(false);
  });
  const axisLabel = el('label', {}, 'X axis ');
  axisLabel.append(axis);
  const smoothLabel = el('label', {}, 'Smoothing ');
  smoothLabel.append(smoothing, smoothingValue);
  bar.append(keys, axisLabel, smoothLabel, log);
  return bar;
}

let drawing: Promise<void> = Promise.resolve();

/** Lays out the charts for the chosen metrics; `refetch` false only re-renders (smoothing, log scale). */
function draw(refetch = true): Promise<void> {
  drawing = drawing.then(async () => {
    const t0 = performance.now();
    const charts = app.querySelector('.charts')!;
    charts.replaceChildren();
    for (const v of views.values()) v.finalize();
    views.clear();
    if (state.keys.length === 0) {
      charts.append(el('p', { class: 'empty' }, 'Pick one or more metrics above.'));
      return;
    }
    if (refetch) await loadSeries(state.runIds, state.keys);
    document.body.dataset.fetchMs = String(Math.round(performance.now() - t0));
    for (const key of state.keys) {
      const host = el('section', { class: 'chart', 'data-key': key });
      host.append(el('h2', {}, key), el('div', { class: 'plot' }), el('p', { class: 'note' }));
      charts.append(host);
      await renderChart(key, host);
    }
    document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
  });
  return drawing.catch((err: unknown) => showError(err instanceof Error ? err.message : String(err)));
}

async function main(): Promise<void> {
  if (state.runIds.length === 0) {
    showError('No runs selected. Open charts from runs in the Runlens explorer.');
    return;
  }
  runs = await transport.call({ kind: 'runs', runIds: state.runIds });
  const allKeys = [...new Set(runs.flatMap((r) => r.metricKeys))].sort();
  if (state.keys.length === 0) state.keys = allKeys.slice(0, DEFAULT_KEYS);
  state.keys = state.keys.filter((k) => allKeys.includes(k));
  save();
  const title = el('h1', {}, runs.length === 1 ? `Metrics of ${runs[0]!.name}` : `Metrics of ${runs.length} runs`);
  app.replaceChildren(title, toolbar(allKeys), el('div', { class: 'charts' }));
  if (allKeys.length === 0) {
    app.querySelector('.charts')!.append(el('p', { class: 'empty' }, 'These runs have no metrics yet.'));
    return;
  }
  await draw();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  transport.onPush((push) => {
    if (push.kind !== 'runChanged' || !state.runIds.includes(push.runId) || timers.has(push.runId)) return;
    timers.set(
      push.runId,
      setTimeout(() => {
        timers.delete(push.runId);
        drawing = drawing.then(() => refreshRun(push.runId)).catch((err: unknown) => showError(String(err)));
      }, 300),
    );
  });
}

main().catch((err: unknown) => showError(err instanceof Error ? err.message : String(err)));
