/**
 * The one protocol between a Runlens view and its host. In VS Code the host is the extension
 * (postMessage); in a browser served by `runlens serve` the same requests are answered in the
 * page by UiBackend over HTTP. Views never touch the store or the network themselves.
 */
import type { WireRunStatus } from '../extension/client/wireTypes';

export type Axis = 'step' | 'timestamp';

export interface RunSummary {
  runId: string;
  name: string;
  experimentId: string;
  status: WireRunStatus;
  startTime?: number;
  metricKeys: string[];
}

export interface SeriesPoint {
  x: number;
  value: number;
  min: number;
  max: number;
}

export interface SeriesResult {
  runId: string;
  key: string;
  axis: Axis;
  total: number;
  downsampled: boolean;
  points: SeriesPoint[];
}

/** Request kind → [request fields, result]. */
export interface UiCalls {
  runs: [{ runIds: string[] }, RunSummary[]];
  series: [{ runId: string; key: string; axis: Axis; buckets: number }, SeriesResult];
}

export type UiRequestKind = keyof UiCalls;
export type UiRequest<K extends UiRequestKind = UiRequestKind> = { kind: K } & UiCalls[K][0];
export type UiResult<K extends UiRequestKind> = UiCalls[K][1];

/** Pushed by the host when the store changes. */
export type UiPush = { kind: 'runChanged'; runId: string; experimentId: string };

export type ToHost = { type: 'request'; id: number; request: UiRequest } | { type: 'openDiff'; runIds: string[] };
export type ToView = { type: 'response'; id: number; ok: true; result: unknown } | { type: 'response'; id: number; ok: false; error: string } | { type: 'push'; push: UiPush };

/** What a charts view keeps across reloads (webview state, URL in the browser). */
export interface ChartsState {
  runIds: string[];
  keys?: string[];
  axis?: 'step' | 'wall' | 'relative';
  smoothing?: number;
  logScale?: boolean;
}

export function isToHost(m: unknown): m is ToHost {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'openDiff') return Array.isArray((m as { runIds?: unknown }).runIds);
  return t === 'request' && typeof (m as { id?: unknown }).id === 'number' && typeof (m as { request?: { kind?: unknown } }).request?.kind === 'string';
}
