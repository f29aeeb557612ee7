/**
 * Progress for a view's loads, shared by every view: a request pending longer than 300 ms shows
 * VS Code's thin indeterminate progress bar at the top of the view, a short label and a Cancel
 * button; it hides as soon as nothing is pending, and a faster request shows nothing (no flicker).
 * Cancel aborts what is pending (the host stops its fetches); the view keeps what it showed and
 * says the load was cancelled. `supersede` gives a load a signal that the next load of the same
 * kind aborts (a new filter typed while the last one is still loading).
 */
import type { UiRequest, UiRequestKind, UiResult } from '../src/ui/protocol';
import { el } from './dom';
import type { CallOptions, Transport } from './transport';

/** How long a request may take before the view shows that it is busy. */
export const SHOW_AFTER_MS = 300;

export interface BusyTransport extends Transport {
  /** A signal for a new load of `slot` (e.g. 'rows'); the last load of that slot, if still pending, is cancelled. */
  supersede(slot: string): AbortSignal;
}

/** Writes and preferences are not shown nor cancelled: a Cancel must not leave a save half known. */
const UNTRACKED: ReadonlySet<UiRequestKind> = new Set<UiRequestKind>([
  'getPrefs',
  'setPrefs',
  'setNote',
  'logFeedback',
  'setModelVersionDescription',
  'setModelVersionTag',
  'deleteModelVersionTag',
  'setRegisteredModelDescription',
]);

const LABELS: Partial<Record<UiRequestKind, string>> = {
  experiments: 'Loading experiments…',
  searchRuns: 'Loading runs…',
  runs: 'Loading runs…',
  runRows: 'Loading runs…',
  runDetail: 'Loading the run…',
  series: 'Loading metrics…',
  seriesMany: 'Loading metrics…',
  artifacts: 'Loading artifacts…',
  artifact: 'Loading the artifact…',
  searchTraces: 'Loading traces…',
  traceSessions: 'Loading sessions…',
  traceDetail: 'Loading the trace…',
  traceCount: 'Counting traces…',
  evalDatasets: 'Loading datasets…',
  evalDataset: 'Loading the dataset…',
  runModels: 'Loading models…',
  modelVersion: 'Loading the model…',
  registeredModel: 'Loading the model…',
  governanceOverview: 'Loading spend…',
  governanceAudit: 'Loading the audit trail…',
  runCost: 'Loading cost…',
};

interface Pending {
  label: string;
  started: number;
  controller: AbortController;
}

/**
 * `transport` with its calls tracked by a progress bar put first in the page; `region` (the
 * view's content, #app) is marked aria-busy while the bar shows.
 */
export function withBusy(transport: Transport, region: HTMLElement = document.getElementById('app') ?? document.body): BusyTransport {
  const pending = new Map<number, Pending>();
  const slots = new Map<string, AbortController>();
  let next = 1;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const bar = el('div', { class: 'busy-bar', role: 'progressbar', 'aria-label': 'Loading' });
  const label = el('span', { class: 'busy-label', id: 'busy-label' });
  const cancel = el('button', { type: 'button', class: 'busy-cancel', id: 'busy-cancel' }, 'Cancel');
  const note = el('span', { class: 'busy-note', id: 'busy-note', tabindex: '-1' });
  const box = el('div', { class: 'busy-box' });
  box.append(label, cancel);
  // role=status: a screen reader hears the label and the cancelled note without moving focus.
  const status = el('div', { class: 'busy-status', role: 'status', 'aria-live': 'polite' });
  status.append(box, note);
  const root = el('div', { class: 'busy', id: 'busy', 'data-state': 'idle' });
  root.append(bar, status);
  document.body.prepend(root);

  const setState = (state: 'idle' | 'loading' | 'cancelled'): void => {
    root.dataset.state = state;
    document.body.dataset.busy = state;
    if (state === 'loading') region.setAttribute('aria-busy', 'true');
    else region.removeAttribute('aria-busy');
  };

  const update = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) {
      if (root.dataset.state === 'loading') setState('idle');
      return;
    }
    const oldest = [...pending.values()].reduce((a, b) => (b.started < a.started ? b : a));
    const wait = oldest.started + SHOW_AFTER_MS - performance.now();
    if (wait > 0) {
      timer = setTimeout(update, wait);
      return;
    }
    label.textContent = pending.size > 1 && new Set([...pending.values()].map((p) => p.label)).size > 1 ? `Loading (${pending.size} requests)…` : oldest.label;
    bar.setAttribute('aria-valuetext', label.textContent);
    setState('loading');
  };

  cancel.addEventListener('click', () => {
    const refocus = document.activeElement === cancel;
    for (const p of pending.values()) p.controller.abort();
    pending.clear();
    update();
    note.textContent = 'Loading cancelled. What the view showed before is kept.';
    setState('cancelled');
    // The button goes away with the bar: keep keyboard focus in the view, on the note it leaves.
    if (refocus) note.focus();
  });

  const call = <K extends UiRequestKind>(request: UiRequest<K>, options: CallOptions = {}): Promise<UiResult<K>> => {
    if (UNTRACKED.has(request.kind)) return transport.call(request, options);
    const id = next++;
    const controller = new AbortController();
    const outer = options.signal;
    const onAbort = (): void => controller.abort();
    if (outer?.aborted) controller.abort();
    // Removed when the call settles: a view's long-lived supersede signal would gather one per call.
    outer?.addEventListener('abort', onAbort, { once: true });
    if (root.dataset.state === 'cancelled') setState('idle');
    pending.set(id, { label: LABELS[request.kind] ?? 'Loading…', started: performance.now(), controller });
    update();
    return transport.call(request, { signal: controller.signal }).finally(() => {
      outer?.removeEventListener('abort', onAbort);
      pending.delete(id);
      update();
    });
  };

  return {
    ...transport,
    call,
    supersede: (slot) => {
      slots.get(slot)?.abort();
      const controller = new AbortController();
      slots.set(slot, controller);
      return controller.signal;
    },
  };
}

/** What a view shows instead of its content when its first load was cancelled: a way to load it again. */
export function cancelledNotice(again: () => void): HTMLElement {
  const box = el('div', { class: 'cancelled', id: 'cancelled', role: 'status' }, 'Loading was cancelled. ');
  const button = el('button', { type: 'button', class: 'busy-cancel', id: 'load-again' }, 'Load again');
  button.addEventListener('click', again);
  box.append(button);
  return box;
}
