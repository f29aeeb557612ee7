/** The charts view's controls: metric search and list, x axis, smoothing, log scale, chart size. */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { ChartsState } from '../../src/ui/protocol';
import { el } from '../dom';
import { isSingleValue, matchesSearch, type KeyInfo } from './metricKeys';

export interface ToolbarHandlers {
  /** The ticked metrics changed. */
  keys(keys: string[]): void;
  /** Axis changed: series must be fetched again. */
  axis(): void;
  /** Smoothing, log scale or size changed: redraw from the series in hand. */
  restyle(): void;
  save(): void;
}

type Checkbox = HTMLElement & { checked: boolean };

/** `shown`: the ticked keys (the user's or the defaults). */
export function toolbar(state: ChartsState, infos: KeyInfo[], shown: string[], on: ToolbarHandlers): HTMLElement {
  const bar = el('div', { class: 'toolbar charts-toolbar' });
  const keys = el('fieldset', { class: 'keys' });
  keys.append(el('legend', {}, `Metrics (${infos.length})`));
  const search = el('vscode-textfield', { id: 'metric-search', placeholder: 'Search metrics', 'aria-label': 'search metrics' }) as HTMLElement & { value: string };
  search.value = state.search ?? '';
  const list = el('div', { class: 'key-list' });
  const boxes: Checkbox[] = [];
  for (const info of infos) {
    const box = el('vscode-checkbox', { label: keyLabel(info), 'data-metric': info.key, title: isSingleValue(info) ? 'one value per run' : `latest step ${info.maxStep}` }) as Checkbox;
    box.checked = shown.includes(info.key);
    box.addEventListener('change', () => on.keys(boxes.filter((b) => b.checked).map((b) => b.dataset.metric!)));
    boxes.push(box);
    list.append(box);
  }
  const filter = (): void => {
    for (const b of boxes) b.hidden = !matchesSearch(b.dataset.metric!, state.search ?? '');
  };
  search.addEventListener('input', () => {
    state.search = search.value;
    filter();
    on.save();
  });
  filter();
  keys.append(search, list);

  const axis = el('vscode-single-select', { 'aria-label': 'x axis', id: 'axis' }) as HTMLElement & { value: string };
  for (const [value, text] of [['step', 'Step'], ['wall', 'Wall time'], ['relative', 'Relative time']] as const) {
    const o = el('vscode-option', { value }, text);
    if ((state.axis ?? 'step') === value) o.setAttribute('selected', '');
    axis.append(o);
  }
  axis.addEventListener('change', () => {
    state.axis = axis.value as NonNullable<ChartsState['axis']>;
    on.save();
    on.axis();
  });
  const smoothing = el('input', { type: 'range', min: '0', max: '0.99', step: '0.01', id: 'smoothing', 'aria-label': 'smoothing' });
  smoothing.value = String(state.smoothing ?? 0);
  const smoothingValue = el('span', { class: 'value' }, (state.smoothing ?? 0).toFixed(2));
  smoothing.addEventListener('input', () => {
    state.smoothing = Number(smoothing.value);
    smoothingValue.textContent = state.smoothing.toFixed(2);
  });
  smoothing.addEventListener('change', () => (on.save(), on.restyle()));
  const size = el('input', { type: 'range', min: '260', max: '1200', step: '20', id: 'chart-size', 'aria-label': 'chart size' });
  size.value = String(state.chartWidth ?? 380);
  size.addEventListener('change', () => {
    state.chartWidth = Number(size.value);
    on.save();
    on.restyle();
  });
  const log = el('vscode-checkbox', { label: 'Log scale', id: 'log' }) as Checkbox;
  log.checked = Boolean(state.logScale);
  log.addEventListener('change', () => {
    state.logScale = log.checked;
    on.save();
    on.restyle();
  });
  const axisLabel = el('label', {}, 'X axis ');
  axisLabel.append(axis);
  const smoothLabel = el('label', {}, 'Smoothing ');
  smoothLabel.append(smoothing, smoothingValue);
  const sizeLabel = el('label', {}, 'Chart size ');
  sizeLabel.append(size);
  const options = el('div', { class: 'chart-options' });
  options.append(axisLabel, smoothLabel, sizeLabel, log);
  bar.append(keys, options);
  return bar;
}

/** A metric's entry in the list: a stepped one says how far it has got. */
export function keyLabel(info: KeyInfo): string {
  return isSingleValue(info) ? info.key : `${info.key} · ${info.maxStep + 1} steps`;
}

/** Brings the list's step counts up to date while runs log (without rebuilding it under the user's cursor). */
export function updateKeyLabels(bar: ParentNode, infos: KeyInfo[]): void {
  for (const info of infos) bar.querySelector(`vscode-checkbox[data-metric="${CSS.escape(info.key)}"]`)?.setAttribute('label', keyLabel(info));
}

/** The runs with their colors; a click hides or shows a run in every chart. */
export function runLegend(labels: { runId: string; label: string; color: string; child: boolean }[], hidden: Set<string>, toggle: (runId: string) => void): HTMLElement {
  const box = el('div', { class: 'run-legend', role: 'list', 'aria-label': 'runs' });
  for (const r of labels) {
    const item = el('button', { class: `run-chip${hidden.has(r.runId) ? ' off' : ''}`, role: 'listitem', 'data-run': r.runId, title: hidden.has(r.runId) ? 'show this run' : 'hide this run', 'aria-pressed': String(!hidden.has(r.runId)) });
    const swatch = el('span', { class: 'swatch' });
    swatch.style.background = r.color;
    item.append(swatch, r.label);
    item.addEventListener('click', () => toggle(r.runId));
    box.append(item);
  }
  return box;
}
