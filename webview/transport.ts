/**
 * How a view reaches its host. Inside VS Code: postMessage to the extension, which answers with
 * UiBackend. In a browser served by `runlens serve`: UiBackend runs in the page over same-origin
 * HTTP and pushes come from the server's event stream. Views only see this interface.
 */
import { TrackingClient } from '../src/client/trackingClient';
import type { HostAction, ModelTarget, ToHost, ToView, UiPush, UiRequest, UiRequestKind, UiResult } from '../src/ui/protocol';
import { UiBackend, type ViewPrefs } from '../src/ui/uiBackend';
import { abortError } from '../src/ui/viewRequests';

export { isAbortError } from '../src/ui/viewRequests';

export interface CallOptions {
  /** Aborting it cancels the call: it rejects with an AbortError (isAbortError) and the host stops its fetches. */
  signal?: AbortSignal | undefined;
}

interface VsCodeApi {
  postMessage(message: ToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface Transport {
  readonly inVsCode: boolean;
  call<K extends UiRequestKind>(request: UiRequest<K>, options?: CallOptions): Promise<UiResult<K>>;
  onPush(listener: (push: UiPush) => void): void;
  loadState<T>(fallback: T): T;
  saveState(state: unknown): void;
  /** Asks the editor to act on runs; in a browser, the matching page opens instead. */
  action(action: HostAction, runIds: string[], path?: string, traceId?: string, model?: ModelTarget): void;
  /** Opens a source file at a line in the editor (VS Code only; see tracebackLinks.ts). */
  openSource(path: string, line: number): void;
}

function initialState(): unknown {
  const el = document.getElementById('runlens-state');
  try {
    return el?.textContent ? JSON.parse(el.textContent) : undefined;
  } catch {
    return undefined;
  }
}

function vscodeTransport(api: VsCodeApi): Transport {
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners: ((p: UiPush) => void)[] = [];
  window.addEventListener('message', (e: MessageEvent<ToView>) => {
    const m = e.data;
    if (m?.type === 'push') for (const l of listeners) l(m.push);
    if (m?.type === 'response') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
    }
  });
  return {
    inVsCode: true,
    call: <K extends UiRequestKind>(request: UiRequest<K>, options: CallOptions = {}) =>
      new Promise<UiResult<K>>((resolve, reject) => {
        const { signal } = options;
        if (signal?.aborted) return reject(abortError());
        const id = next++;
        const onAbort = (): void => {
          pending.delete(id);
          api.postMessage({ type: 'cancel', id });
          reject(abortError());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const settled = (): void => signal?.removeEventListener('abort', onAbort);
        pending.set(id, { resolve: (v) => (settled(), resolve(v as UiResult<K>)), reject: (e) => (settled(), reject(e)) });
        api.postMessage({ type: 'request', id, request: request as UiRequest });
      }),
    onPush: (l) => listeners.push(l),
    loadState: <T>(fallback: T) => {
      // A reused panel gets a new opening (a new `openedAt`): it wins over the state kept from the last one.
      const saved = api.getState() as (T & { openedAt?: number }) | undefined;
      const initial = initialState() as (T & { openedAt?: number }) | undefined;
      if (initial?.openedAt !== undefined && saved?.openedAt !== initial.openedAt) return initial;
      return saved ?? initial ?? fallback;
    },
    saveState: (s) => api.setState(s),
    action: (action, runIds, path, traceId, model) => api.postMessage({ type: 'action', action, runIds, ...(path ? { path } : {}), ...(traceId ? { traceId } : {}), ...(model ? { model } : {}) }),
    openSource: (path, line) => api.postMessage({ type: 'openSource', path, line }),
  };
}

/** A browser remembers view preferences per origin, so a reopened page finds its layout. */
const localPrefs: ViewPrefs = {
  get: (key) => {
    try {
      const text = window.localStorage.getItem(`runlens:${key}`);
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  },
  set: (key, value) => {
    try {
      window.localStorage.setItem(`runlens:${key}`, JSON.stringify(value));
    } catch {
      // storage full or disabled: the layout is simply not remembered
    }
  },
};

function browserTransport(): Transport {
  const backend = new UiBackend(new TrackingClient(window.location.origin), undefined, localPrefs);
  const listeners: ((p: UiPush) => void)[] = [];
  const events = new EventSource('/runlens/api/changes');
  events.onmessage = (e: MessageEvent<string>) => {
    try {
      const c = JSON.parse(e.data) as { kind: string; runId?: string; traceId?: string; experimentId?: string };
      if (c.kind === 'run' && c.runId) for (const l of listeners) l({ kind: 'runChanged', runId: c.runId, experimentId: c.experimentId ?? '' });
      if (c.kind === 'trace' && c.traceId) for (const l of listeners) l({ kind: 'traceChanged', traceId: c.traceId, experimentId: c.experimentId ?? '' });
    } catch {
      // ignore a malformed event
    }
  };
  return {
    inVsCode: false,
    call: (request, options = {}) => {
      const { signal } = options;
      if (!signal) return backend.handle(request);
      if (signal.aborted) return Promise.reject(abortError());
      // Rejects at the abort itself, not when the aborted fetch gets round to failing.
      return new Promise((resolve, reject) => {
        const onAbort = (): void => reject(abortError());
        signal.addEventListener('abort', onAbort, { once: true });
        backend.handle(request, signal).then(resolve, (err: unknown) => reject(signal.aborted ? abortError() : err)).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    onPush: (l) => listeners.push(l),
    loadState: <T>(fallback: T) => {
      const fromUrl = new URLSearchParams(window.location.search).get('state');
      try {
        if (fromUrl) return JSON.parse(fromUrl) as T;
      } catch {
        // fall through to the page's state
      }
      return (initialState() as T | undefined) ?? fallback;
    },
    saveState: (s) => {
      const url = new URL(window.location.href);
      url.searchParams.set('state', JSON.stringify(s));
      window.history.replaceState(null, '', url);
    },
    action: (action, runIds, path, traceId, model) => {
      const ids = runIds.map(encodeURIComponent).join(',');
      const theme = new URLSearchParams(window.location.search).get('theme') ?? 'dark';
      const pages: Record<HostAction, string> = {
        openCharts: `/runlens/ui/charts?runs=${ids}`,
        compare: `/runlens/ui/compare?runs=${ids}`,
        openDiff: `/runlens/ui/compare?runs=${ids}`,
        openRun: `/runlens/ui/run?run=${ids}`,
        openArtifact: `/runlens/ui/run?run=${ids}&artifact=${encodeURIComponent(path ?? '')}`,
        openTrace: `/runlens/ui/trace?trace=${encodeURIComponent(traceId ?? '')}`,
        openRunTraces: `/runlens/ui/traces?run=${ids}`,
        openRunsTable: `/runlens/ui/runs?experiments=${ids}`,
        openModel: `/runlens/ui/model?name=${encodeURIComponent(model?.name ?? '')}${model?.version ? `&version=${encodeURIComponent(model.version)}` : ''}`,
      };
      window.open(`${pages[action]}&theme=${theme}`, '_blank', 'noopener');
    },
    // A browser has no editor to open: traceback lines render as vscode:// links instead.
    openSource: () => undefined,
  };
}

export function createTransport(): Transport {
  return typeof acquireVsCodeApi === 'function' ? vscodeTransport(acquireVsCodeApi()) : browserTransport();
}
