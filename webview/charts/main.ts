/**
 * Metric charts: a grid of small charts, one per metric, one series per run. Stepped metrics are
 * curves (x = step, wall time or time since the run started; EMA smoothing; log scale; a min/max
 * envelope where the host downsampled); single-value metrics compare the runs' values. A parent
 * run brings its children (a sweep is looked at through its parent). Live from any starting
 * state: pushes (and a slow poll while runs are running) re-read the runs and redraw what changed.
 */
import type { ChartsState, RunSummary, SeriesResult } from '../../src/ui/protocol';
import { el } from '../dom';
import { createTransport, isAbortError } from '../transport';
import { cancelledNotice, withBusy } from '../busy';
import { preloadVega, renderSpec, type VegaView } from '../vega/lazyVega';
import { barSpec, chartSpec, type ChartRow } from './chartSpec';
import { defaultKeys, isSingleValue, keyInfos, matchesSearch } from './metricKeys';
import { runColors } from './runColors';
import { attachHover } from './hover';
import { ema } from './smoothing';
import { runLegend, toolbar, updateKeyLabels } from './toolbar';

void preloadVega();
const BUCKETS = 600;
const POLL_MS = 5000;
const transport = withBusy(createTransport());
const state: ChartsState = { axis: 'step', smoothing: 0, logScale: false, ...transport.loadState<ChartsState>({ runIds: [] }) };
let runs: RunSummary[] = [];
const series = new Map<string, SeriesResult>(); // `${runId}\u0000${key}`
const views = new Map<string, VegaView>();
/** What each chart was last drawn from, so a redraw skips charts whose data did not change. */
const drawnFrom = new Map<string, string>();
const app = document.getElementById('app')!;
const sid = (runId: string, key: string): string => `${runId}\u0000${key}`;
const save = (): void => transport.saveState(state);
const shownKeys = (): string[] => {
  const all = new Set(runs.flatMap((r) => r.metricKeys));
  return (state.keys ?? defaultKeys(runs)).filter((k) => all.has(k));
};

function showError(message: string): void {
  app.replaceChildren(el('div', { class: 'error', role: 'alert' }, message));
}

/** A failed draw or reload: an error, unless it was cancelled (the charts drawn so far stay). */
function failed(err: unknown): void {
  if (!isAbortError(err)) showError(err instanceof Error ? err.message : String(err));
}

/** The series loads' signal: a new x axis cancels the loads for the old one still pending. */
let seriesSignal = transport.supersede('series');

function labelOf(run: RunSummary): string {
  return runs.filter((r) => r.name === run.name).length > 1 ? `${run.name} (${run.runId.slice(0, 6)})` : run.name;
}

/** Fetches the series the shown charts need and do not have (a run's are dropped when it changes). */
async function loadSeries(keys: string[]): Promise<void> {
  const axis = state.axis === 'step' || !state.axis ? 'step' : 'timestamp';
  const singles = new Set(keyInfos(runs).filter(isSingleValue).map((i) => i.key));
  // One request per key for all the runs that lack it (a single-value metric's value is in the run summary already).
  const jobs = keys
    .filter((key) => !singles.has(key))
    .map(async (key) => {
      const runIds = runs.filter((r) => r.metricKeys.includes(key) && !series.has(sid(r.runId, key))).map((r) => r.runId);
      if (runIds.length === 0) return;
      for (const s of await transport.call({ kind: 'seriesMany', runIds, key, axis, buckets: BUCKETS }, { signal: seriesSignal })) series.set(sid(s.runId, key), s);
    });
  await Promise.all(jobs);
}

function lineRows(key: string, shown: RunSummary[]): { rows: ChartRow[]; downsampled: boolean; seriesCount: number; total: number; partial: number } {
  const rows: ChartRow[] = [];
  let downsampled = false;
  let partial = 0;
  let seriesCount = 0;
  let total = 0;
  for (const run of shown) {
    const s = series.get(sid(run.runId, key));
    if (!s || s.points.length === 0) continue;
    seriesCount++;
    total += s.total;
    downsampled ||= s.downsampled;
    if (s.firstPoints !== undefined) partial = Math.max(partial, s.firstPoints);
    const shownValues = ema(
      s.points.map((p) => p.value),
      state.smoothing ?? 0,
    );
    const origin = state.axis === 'relative' ? (run.startTime ?? s.points[0]!.x) : 0;
    const label = labelOf(run);
    s.points.forEach((p, i) => {
      if (state.logScale && !(shownValues[i]! > 0)) return;
      rows.push({ run: label, runId: run.runId, x: state.axis === 'relative' ? (p.x - origin) / 1000 : p.x, value: p.value, shown: shownValues[i]!, min: p.min, max: p.max });
    });
  }
  return { rows, downsampled, seriesCount, total, partial };
}

async function renderChart(key: string, host: HTMLElement): Promise<void> {
  const hidden = new Set(state.hidden ?? []);
  const shown = runs.filter((r) => !hidden.has(r.runId));
  const labels = runs.map(labelOf);
  const colors = runColors(runs.length);
  const single = keyInfos(runs).find((i) => i.key === key);
  const width = Math.max(200, host.clientWidth - (single && isSingleValue(single) ? 190 : 70));
  const note = host.querySelector('.note')!;
  let spec;
  let hoverRows: ChartRow[] | undefined;
  if (single && isSingleValue(single)) {
    const rows = shown.filter((r) => r.latest[key] !== undefined && (!state.logScale || r.latest[key]!.value > 0)).map((r) => ({ run: labelOf(r), runId: r.runId, value: r.latest[key]!.value }));
    host.dataset.kind = 'values';
    host.dataset.series = String(rows.length);
    host.dataset.points = String(rows.length);
    note.textContent = `one value per run · ${rows.length} ${rows.length === 1 ? 'run' : 'runs'}`;
    spec = barSpec({ key, width, runs: labels, colors, logScale: Boolean(state.logScale) }, rows);
  } else {
    const { rows, downsampled, seriesCount, total, partial } = lineRows(key, shown);
    host.dataset.kind = 'curve';
    host.dataset.series = String(seriesCount);
    host.dataset.points = String(rows.length);
    hoverRows = rows;
    note.textContent = downsampled ? `${total.toLocaleString()} points, shown as ${rows.length.toLocaleString()} (min/max envelope)` : `${total.toLocaleString()} points`;
    // A history longer than the client reads from a plain server: only its first points are drawn.
    if (partial > 0) note.textContent += ` · from the first ${partial.toLocaleString()} points of a longer history (the server has no Runlens series route)`;
    spec = chartSpec({ key, axis: state.axis ?? 'step', logScale: Boolean(state.logScale), envelope: downsampled, smoothing: (state.smoothing ?? 0) > 0, width, height: Math.round(Math.min(320, Math.max(150, width * 0.5))), runs: labels, colors }, rows);
  }
  const t0 = performance.now();
  const view = await renderSpec(host.querySelector<HTMLElement>('.plot')!, spec);
  host.dataset.drawMs = String(Math.round(performance.now() - t0));
  if (hoverRows) attachHover(view, hoverRows, key, state.axis === 'wall' ? 'wall time' : state.axis === 'relative' ? 'seconds' : 'step', state.axis === 'wall', (state.smoothing ?? 0) > 0);
  views.get(key)?.finalize();
  views.set(key, view);
  host.dataset.renderedAt = String(Date.now());
  // "Ready": the first chart drawn with data (what a panel-open measurement waits for).
  if (Number(host.dataset.points) > 0 && !document.body.dataset.readyMs) document.body.dataset.readyMs = String(Math.round(performance.now()));
}

/** What a chart's picture depends on; unchanged, the chart is not redrawn. */
function signature(key: string, width: number): string {
  const parts = runs.map((r) => {
    const s = series.get(sid(r.runId, key));
    return `${r.runId}:${s ? `${s.total}/${s.points.length}/${s.points.at(-1)?.value}` : ''}:${r.latest[key]?.value ?? ''}@${r.latest[key]?.step ?? ''}`;
  });
  return [width, state.axis, state.smoothing, state.logScale, (state.hidden ?? []).join(','), runs.length, ...parts].join('|');
}

const visible = new Set<string>();
const observer = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      const key = (e.target as HTMLElement).dataset.key!;
      if (e.isIntersecting) visible.add(key);
      else visible.delete(key);
    }
    void draw(false);
  },
  { rootMargin: '300px' },
);

/** Makes the grid's sections match the shown keys (in order), keeping sections that stay. */
function layoutGrid(): HTMLElement[] {
  const grid = app.querySelector<HTMLElement>('.chart-grid')!;
  grid.style.setProperty('--chart-min', `${state.chartWidth ?? 380}px`);
  const keys = shownKeys().filter((k) => matchesSearch(k, state.search ?? '') || (state.keys ?? []).includes(k));
  const existing = new Map([...grid.querySelectorAll<HTMLElement>('.chart')].map((c) => [c.dataset.key!, c]));
  const sections = keys.map((key) => {
    let host = existing.get(key);
    existing.delete(key);
    if (!host) {
      host = el('section', { class: 'chart', 'data-key': key });
      host.append(el('h2', { title: key }, key), el('div', { class: 'plot' }), el('p', { class: 'note' }, 'loading…'));
      observer.observe(host);
    }
    return host;
  });
  for (const [key, old] of existing) {
    observer.unobserve(old);
    views.get(key)?.finalize();
    views.delete(key);
    drawnFrom.delete(key);
    visible.delete(key);
  }
  grid.replaceChildren(...sections);
  if (sections.length === 0) grid.append(el('p', { class: 'empty' }, runs.some((r) => r.metricKeys.length) ? 'Pick one or more metrics above.' : 'These runs have no metrics yet; charts appear as they log.'));
  return sections;
}

let drawing: Promise<void> = Promise.resolve();
let resizeTimer: ReturnType<typeof setTimeout> | undefined;

/** Fetches what the shown charts lack (`refetch`: drop every series first, e.g. a new x axis) and redraws the visible charts that changed. */
function draw(refetch: boolean): Promise<void> {
  if (refetch) seriesSignal = transport.supersede('series');
  drawing = drawing
    .then(async () => {
      if (refetch) series.clear();
      const sections = layoutGrid();
      const t0 = performance.now();
      await loadSeries(sections.map((s) => s.dataset.key!));
      performance.mark('runlens:series');
      const fetchMs = Math.round(performance.now() - t0);
      // Before the observer's first report, the first row or two are the visible ones.
      const onScreen = sections.filter((s) => visible.has(s.dataset.key!) || (visible.size === 0 && s.getBoundingClientRect().top < window.innerHeight));
      let drawn = 0;
      for (const host of onScreen) {
        const key = host.dataset.key!;
        const sig = signature(key, host.clientWidth);
        if (drawnFrom.get(key) === sig) continue;
        drawnFrom.set(key, sig);
        await renderChart(key, host);
        drawn++;
      }
      // The timings of the first draw that drew charts (the panel opening), not of later live redraws.
      if (drawn > 0 && !document.body.dataset.renderMs) {
        document.body.dataset.fetchMs = String(fetchMs);
        document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
      }
    })
    .catch(failed);
  return drawing;
}

function header(): void {
  const parents = runs.filter((r) => runs.some((c) => c.parentRunId === r.runId));
  const title =
    parents.length === 1 && runs.length > 1
      ? `Metrics of ${parents[0]!.name} and its ${runs.filter((r) => r.parentRunId === parents[0]!.runId).length} child runs`
      : runs.length === 1
        ? `Metrics of ${runs[0]!.name}`
        : `Metrics of ${runs.length} runs`;
  const colors = runColors(runs.length);
  const hidden = new Set(state.hidden ?? []);
  const legend = runLegend(
    runs.map((r, i) => ({ runId: r.runId, label: labelOf(r), color: colors[i]!, child: Boolean(r.parentRunId) })),
    hidden,
    (runId) => {
      state.hidden = hidden.has(runId) ? [...hidden].filter((x) => x !== runId) : [...hidden, runId];
      save();
      header();
      void draw(false);
    },
  );
  const bar = toolbar(state, keyInfos(runs), shownKeys(), {
    keys: (keys) => {
      state.keys = keys;
      save();
      void draw(false);
    },
    axis: () => void draw(true),
    restyle: () => void draw(false),
    save,
  });
  const grid = app.querySelector('.chart-grid') ?? el('div', { class: 'chart-grid' });
  app.replaceChildren(el('h1', {}, title), bar, legend, grid);
}

/** The key list and run set as a string: a change rebuilds the toolbar and legend. */
const shape = (): string => runs.map((r) => `${r.runId}:${r.name}:${r.metricKeys.join(',')}:${Object.values(r.latest).some((m) => m.step > 0)}`).join('|');

/** Re-reads the runs (and children); a run whose latest values moved has its series read again. */
async function reload(): Promise<void> {
  const before = shape();
  const old = new Map(runs.map((r) => [r.runId, r]));
  runs = await transport.call({ kind: 'runs', runIds: state.runIds, withChildren: true });
  for (const r of runs) {
    const prev = old.get(r.runId);
    if (prev && JSON.stringify(prev.latest) === JSON.stringify(r.latest)) continue;
    for (const key of r.metricKeys) series.delete(sid(r.runId, key));
  }
  if (shape() !== before) header();
  else updateKeyLabels(app, keyInfos(runs));
}

async function main(): Promise<void> {
  if (state.runIds.length === 0) {
    showError('No runs selected. Open charts from runs in the Runlens explorer.');
    return;
  }
  await reload();
  performance.mark('runlens:runs');
  if (app.querySelector('.chart-grid') === null) header();
  await draw(false);
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => void draw(false), 200);
  });
  const experiments = new Set(runs.map((r) => r.experimentId));
  let pending: ReturnType<typeof setTimeout> | undefined;
  let lastPush = 0;
  const refresh = (): void => {
    pending ??= setTimeout(() => {
      pending = undefined;
      drawing = drawing.then(reload).catch(failed);
      void draw(false);
    }, 300);
  };
  transport.onPush((push) => {
    // A run of ours changed, or a run appeared in our experiments (maybe a new child of a sweep).
    if (push.kind !== 'runChanged' || !(runs.some((r) => r.runId === push.runId) || experiments.has(push.experimentId))) return;
    lastPush = Date.now();
    refresh();
  });
  // A safety net while runs are running: if no push came for a while, look anyway.
  setInterval(() => {
    if (Date.now() - lastPush > POLL_MS && runs.some((r) => r.status === 'RUNNING')) refresh();
  }, POLL_MS);
}
function start(): void {
  main().catch((err: unknown) => (isAbortError(err) ? app.replaceChildren(cancelledNotice(start)) : failed(err)));
}
start();
