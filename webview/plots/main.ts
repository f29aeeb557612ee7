/**
 * The sidebar's Plots view: the selected runs' key metrics (the stepped ones, longest history
 * first) as small stacked charts, following the tree selection and live while the runs log.
 * A parent run brings its children, as in the charts panel.
 */
import type { PlotsState, RunSummary, SeriesResult } from '../../src/ui/protocol';
import { el } from '../dom';
import { createTransport, isAbortError } from '../transport';
import { withBusy } from '../busy';
import { preloadVega, renderSpec, type VegaView } from '../vega/lazyVega';
import { barSpec, chartSpec, type ChartRow } from '../charts/chartSpec';
import { defaultKeys, isSingleValue, keyInfos } from '../charts/metricKeys';
import { runColors } from '../charts/runColors';

void preloadVega();
const KEYS = 3;
const BUCKETS = 200;
const transport = withBusy(createTransport());
const state: PlotsState = transport.loadState<PlotsState>({ runIds: [] });
const app = document.getElementById('app')!;
let runs: RunSummary[] = [];
const views: VegaView[] = [];
let drawing: Promise<void> = Promise.resolve();

function message(text: string): void {
  for (const v of views.splice(0)) v.finalize();
  app.replaceChildren(el('p', { class: 'empty' }, text));
}

async function plot(key: string, host: HTMLElement, labels: string[], colors: string[], signal: AbortSignal): Promise<void> {
  const width = Math.max(140, app.clientWidth - 60);
  const info = keyInfos(runs).find((i) => i.key === key)!;
  if (isSingleValue(info)) {
    const rows = runs.flatMap((r, i) => (r.latest[key] ? [{ run: labels[i]!, runId: r.runId, value: r.latest[key]!.value }] : []));
    host.dataset.points = String(rows.length);
    views.push(await renderSpec(host, barSpec({ key, width: Math.max(100, width - 100), runs: labels, colors, logScale: false }, rows)));
    return;
  }
  const withKey = runs.filter((r) => r.metricKeys.includes(key));
  const series: SeriesResult[] = await transport.call({ kind: 'seriesMany', runIds: withKey.map((r) => r.runId), key, axis: 'step', buckets: BUCKETS }, { signal });
  const rows: ChartRow[] = series.flatMap((s) => {
    const label = labels[runs.findIndex((r) => r.runId === s.runId)]!;
    return s.points.map((p) => ({ run: label, runId: s.runId, x: p.x, value: p.value, shown: p.value, min: p.min, max: p.max }));
  });
  host.dataset.points = String(rows.length);
  views.push(await renderSpec(host, chartSpec({ key, axis: 'step', logScale: false, envelope: false, smoothing: false, width, height: 110, runs: labels, colors }, rows)));
}

let drawSignal = transport.supersede('draw');

/** Reads the selected runs and draws their key metrics; `fresh` (another selection) cancels the draw still loading. */
function draw(fresh = false): Promise<void> {
  const signal = fresh ? (drawSignal = transport.supersede('draw')) : drawSignal;
  drawing = drawing
    .then(async () => {
      if (state.runIds.length === 0) return message('Select runs in the Experiments view to plot their key metrics here.');
      if (signal.aborted) return;
      runs = await transport.call({ kind: 'runs', runIds: state.runIds, withChildren: true }, { signal });
      // Curves when there are any (the view is for "how is it going"); single values only for runs without.
      const all = defaultKeys(runs, KEYS);
      const infos = keyInfos(runs);
      const curves = all.filter((k) => !isSingleValue(infos.find((i) => i.key === k)!));
      const keys = curves.length ? curves : all;
      if (keys.length === 0) return message(runs.length === 1 ? `${runs[0]!.name} has no metrics yet.` : 'These runs have no metrics yet.');
      const labels = runs.map((r) => r.name);
      const colors = runColors(runs.length);
      const sections = keys.map((key) => {
        const s = el('section', { class: 'plot-small', 'data-key': key });
        s.append(el('h3', { title: key }, key), el('div', { class: 'plot' }));
        return s;
      });
      const title = el('p', { class: 'plots-title' }, runs.length === 1 ? runs[0]!.name : `${runs.length} runs`);
      for (const v of views.splice(0)) v.finalize();
      app.replaceChildren(title, ...sections);
      for (const s of sections) await plot(s.dataset.key!, s.querySelector<HTMLElement>('.plot')!, labels, colors, signal);
      document.body.dataset.renderedAt = String(Date.now());
      document.body.dataset.runs = state.runIds.join(',');
    })
    .catch((err: unknown) => {
      if (!isAbortError(err)) message(err instanceof Error ? err.message : String(err));
    });
  return drawing;
}

let timer: ReturnType<typeof setTimeout> | undefined;
transport.onPush((push) => {
  if (push.kind === 'selection') {
    state.runIds = push.runIds;
    transport.saveState(state);
    void draw(true);
    return;
  }
  if (push.kind !== 'runChanged' || !(runs.some((r) => r.runId === push.runId) || runs.some((r) => r.experimentId === push.experimentId))) return;
  timer ??= setTimeout(() => {
    timer = undefined;
    void draw();
  }, 1000);
});
let resized: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resized);
  resized = setTimeout(() => void draw(), 250);
});
void draw();
