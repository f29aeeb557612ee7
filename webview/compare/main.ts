/**
 * Compare 2–N runs: params, latest metrics and tags side by side ("only differences" toggle,
 * differing rows marked, best metric value highlighted), a parallel-coordinates plot of the
 * params (numeric and categorical axes) into a chosen metric, a scatter plot of any two numeric columns, and buttons for the
 * overlaid metric charts and (for two runs) the editor diff.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { TopLevelSpec } from 'vega-lite';
import type { CompareState, RunRow } from '../../src/ui/protocol';
import { themeColors, themeConfig } from '../charts/chartSpec';
import { formatValue } from '../format';
import { el } from '../dom';
import { createTransport, isAbortError } from '../transport';
import { cancelledNotice, withBusy } from '../busy';
import { withCache } from '../viewCache';
import { preloadVega, renderSpec, type VegaView } from '../vega/lazyVega';
import { parallelSpec } from './parallel';
import { axisOf, numberOf, rawValue } from './parallelAxes';
import { imageGallery } from '../imageGallery';

// A re-render (another axis or colour picked) reuses the image gallery's listings and images.
const transport = withBusy(withCache(createTransport(), ['artifacts', 'artifact']));
const state: CompareState = { onlyDifferences: false, ...transport.loadState<CompareState>({ runIds: [] }) };
const app = document.getElementById('app')!;
let runs: RunRow[] = [];
const views: VegaView[] = [];
void preloadVega();
const LOWER_IS_BETTER = /loss|err|mse|mae|rmse|perplexity|latency|time|cost/i;

const save = (): void => transport.saveState(state);
const label = (r: RunRow): string => (runs.filter((x) => x.name === r.name).length > 1 ? `${r.name} (${r.runId.slice(0, 6)})` : r.name);

type Row = { section: 'param' | 'metric' | 'tag'; key: string; values: (string | number | undefined)[] };

function rows(): Row[] {
  const out: Row[] = [];
  const collect = (section: Row['section'], pick: (r: RunRow) => Record<string, string | number>): void => {
    for (const key of [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort()) out.push({ section, key, values: runs.map((r) => pick(r)[key]) });
  };
  collect('param', (r) => r.params);
  collect('metric', (r) => r.metrics);
  collect('tag', (r) => r.tags);
  return out;
}

const differs = (r: Row): boolean => new Set(r.values.map((v) => (v === undefined ? '\u0000' : String(v)))).size > 1;

function fmt(v: string | number | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'number' ? formatValue(v) : v;
}

function tableView(): HTMLElement {
  const t = el('table', { class: 'compare' });
  const head = el('tr');
  head.append(el('th', {}, ''), el('th', {}, 'key'));
  for (const r of runs) {
    const th = el('th', {});
    const a = el('a', { href: '#', class: 'run-link', title: r.runId }, label(r));
    a.addEventListener('click', (e) => {
      e.preventDefault();
      transport.action('openRun', [r.runId]);
    });
    th.append(a);
    head.append(th);
  }
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(head);
  let shown = 0;
  for (const r of rows()) {
    const diff = differs(r);
    if (state.onlyDifferences && !diff) continue;
    shown++;
    const tr = el('tr', { class: diff ? 'differs' : 'same', 'data-section': r.section, 'data-key': r.key });
    tr.append(el('td', { class: 'section' }, r.section), el('th', {}, r.key));
    let best = -1;
    if (r.section === 'metric' && diff) {
      const nums = r.values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined));
      const lower = LOWER_IS_BETTER.test(r.key);
      nums.forEach((v, i) => {
        if (v === undefined) return;
        const cur = nums[best];
        if (best < 0 || cur === undefined || (lower ? v < cur : v > cur)) best = i;
      });
    }
    r.values.forEach((v, i) => tr.append(el('td', { class: `${typeof v === 'number' ? 'num' : ''}${i === best ? ' best' : ''}`, title: i === best ? (LOWER_IS_BETTER.test(r.key) ? 'lowest' : 'highest') : '' }, fmt(v))));
    t.tBodies[0]!.append(tr);
  }
  document.body.dataset.shownRows = String(shown);
  return t;
}

/** Params (numeric or not) and metrics; `numericOnly` keeps the columns a scatter plot can use. */
function columns(numericOnly: boolean): string[] {
  const cols: string[] = [];
  for (const key of [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()) {
    if (!numericOnly || axisOf(runs, `param:${key}`).kind === 'number') cols.push(`param:${key}`);
  }
  for (const key of [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort()) cols.push(`metric:${key}`);
  return cols;
}

const valueOf = numberOf;

async function plot(host: HTMLElement, spec: TopLevelSpec): Promise<void> {
  views.push(await renderSpec(host, spec));
}

function scatterSpec(x: string, y: string): TopLevelSpec {
  const values = runs.map((r) => ({ run: label(r), x: valueOf(r, x) ?? null, y: valueOf(r, y) ?? null })).filter((v) => v.x !== null && v.y !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420,
    height: 280,
    background: 'transparent',
    config: themeConfig(),
    data: { values },
    mark: { type: 'point', filled: true, size: 90 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: x.replace(':', ' '), scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: y.replace(':', ' '), scale: { zero: false } },
      color: { field: 'run', type: 'nominal', scale: { range: themeColors() } },
      tooltip: [{ field: 'run' }, { field: 'x', title: x.replace(':', ' '), format: '.6~g' }, { field: 'y', title: y.replace(':', ' '), format: '.6~g' }],
    },
  } as TopLevelSpec;
}

function select(id: string, options: string[], value: string, onChange: (v: string) => void): HTMLSelectElement {
  const s = el('select', { id, class: 'native-select' });
  for (const o of options) {
    const opt = el('option', { value: o }, o.replace(':', ' '));
    if (o === value) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  return s;
}

async function render(): Promise<void> {
  for (const v of views.splice(0)) v.finalize();
  const bar = el('div', { class: 'toolbar' });
  const only = el('vscode-checkbox', { label: 'Only differences', id: 'only-diff' }) as HTMLElement & { checked: boolean };
  only.checked = Boolean(state.onlyDifferences);
  only.addEventListener('change', () => {
    state.onlyDifferences = only.checked;
    save();
    app.querySelector('table.compare')?.replaceWith(tableView());
  });
  const charts = el('vscode-button', { id: 'charts' }, 'Overlaid metric charts');
  charts.addEventListener('click', () => transport.action('openCharts', state.runIds));
  bar.append(only, charts);
  if (runs.length === 2 && transport.inVsCode) {
    const diff = el('vscode-button', { id: 'diff', secondary: '' }, 'Diff in editor');
    diff.addEventListener('click', () => transport.action('openDiff', state.runIds));
    bar.append(diff);
  }
  // Columns that differ between runs are the interesting ones; constant ones only add noise.
  const varies = (c: string): boolean => new Set(runs.map((r) => String(rawValue(r, c)))).size > 1;
  const cols = columns(true).filter(varies);
  const metrics = cols.filter((c) => c.startsWith('metric:'));
  // Parallel coordinates take string params too (categorical axes); the scatter plot only numbers.
  const params = columns(false).filter((c) => c.startsWith('param:') && varies(c));
  state.color = metrics.includes(state.color ?? '') ? state.color : metrics[0];
  state.x = cols.includes(state.x ?? '') ? state.x : (cols.find((c) => c.startsWith('param:')) ?? cols[0]);
  state.y = cols.includes(state.y ?? '') ? state.y : (metrics[0] ?? cols[1]);
  const parallelHost = el('div', { class: 'plot', id: 'parallel' });
  const scatterHost = el('div', { class: 'plot', id: 'scatter' });
  const plots = el('div', { class: 'plots' });
  if (params.length >= 1 && state.color) {
    const p = el('section');
    const h = el('h2', {}, 'Parameters → ');
    h.append(select('color-by', metrics, state.color, (v) => ((state.color = v), save(), void render())));
    p.append(h, parallelHost);
    plots.append(p);
  }
  if (cols.length >= 2 && state.x && state.y) {
    const p = el('section');
    const h = el('h2', {}, 'Scatter ');
    h.append(select('scatter-x', cols, state.x, (v) => ((state.x = v), save(), void render())), ' vs ', select('scatter-y', cols, state.y, (v) => ((state.y = v), save(), void render())));
    p.append(h, scatterHost);
    plots.append(p);
  }
  const gallerySlot = el('div', { class: 'gallery-slot' });
  app.replaceChildren(el('h1', {}, `Comparing ${runs.length} runs`), bar, tableView(), plots, gallerySlot);
  state.imageSteps ??= {};
  void imageGallery(transport, runs.map((r) => ({ runId: r.runId, label: label(r) })), state.imageSteps, save).then((g) => {
    if (g) gallerySlot.replaceChildren(g);
    document.body.dataset.galleryReady = '1';
  });
  if (parallelHost.isConnected && state.color) {
    const pcols = [...params.slice(0, 7), state.color];
    parallelHost.dataset.axes = pcols.map((c) => `${c}=${axisOf(runs, c).kind}`).join(',');
    await plot(parallelHost, parallelSpec(runs, label, pcols, state.color));
  }
  if (scatterHost.isConnected && state.x && state.y) await plot(scatterHost, scatterSpec(state.x, state.y));
  save();
  document.body.dataset.renderedAt = String(Date.now());
}

async function main(): Promise<void> {
  if (state.runIds.length < 2) {
    app.replaceChildren(el('div', { class: 'error', role: 'alert' }, 'Pick two or more runs to compare.'));
    return;
  }
  runs = await transport.call({ kind: 'runRows', runIds: state.runIds }, { signal: transport.supersede('rows') });
  await render();
  let timer: ReturnType<typeof setTimeout> | undefined;
  transport.onPush((push) => {
    if (push.kind !== 'runChanged' || !state.runIds.includes(push.runId) || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      transport
        .call({ kind: 'runRows', runIds: state.runIds }, { signal: transport.supersede('rows') })
        .then((r) => {
          runs = r;
          return render();
        })
        .catch(() => undefined); // cancelled or failed: the table shown stays, the next change tries again
    }, 1000);
  });
}

function start(): void {
  main().catch((err: unknown) => app.replaceChildren(isAbortError(err) ? cancelledNotice(start) : el('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err))));
}
start();
