/**
 * The one protocol between a Runlens view and its host. In VS Code the host is the extension
 * (postMessage); in a browser served by `runlens serve` the same requests are answered in the
 * page by UiBackend over HTTP. Views never touch the store or the network themselves.
 */
import type { WireRunStatus, WireSessionSummary } from '../client/wireTypes';
import type { ModelCalls } from './modelProtocol';
import type { GovernanceCalls } from './governanceProtocol';
import type { DatasetView } from './datasetDetails';

export type Axis = 'step' | 'timestamp';

export interface RunSummary {
  runId: string;
  name: string;
  experimentId: string;
  status: WireRunStatus;
  startTime?: number;
  metricKeys: string[];
  /** Each metric's latest value and its step (a latest step above 0 means the key has a step history). */
  latest: Record<string, { value: number; step: number }>;
  /** Set on a child listed because its parent was asked for with `withChildren`. */
  parentRunId?: string;
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
  /** Only the history's first this many points were read (a long history on a server without Runlens' routes): show "first N points". */
  firstPoints?: number;
}

/** One row of the runs table: attributes plus params, latest metrics and user tags by key. */
export interface RunRow {
  runId: string;
  name: string;
  status: WireRunStatus;
  experimentId: string;
  startTime?: number;
  endTime?: number;
  user?: string;
  parentRunId?: string;
  deleted: boolean;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export interface RunPage {
  rows: RunRow[];
  nextPageToken?: string;
}

export interface ExperimentSummary {
  experimentId: string;
  name: string;
}

export interface RunDetail extends RunRow {
  experimentName: string;
  artifactUri?: string;
  note?: string;
  sourceName?: string;
  gitCommit?: string;
  systemTags: Record<string, string>;
  inputs: DatasetView[];
  children: { runId: string; name: string; status: WireRunStatus }[];
  parentName?: string;
}

export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  size?: number;
}

export type ArtifactPreview =
  | { kind: 'text'; text: string; size: number; truncated: boolean }
  | { kind: 'image'; dataUrl: string; size: number }
  | { kind: 'tooLarge' | 'binary'; size: number };

/** One row of the traces list. */
export interface TraceRow {
  traceId: string;
  experimentId: string;
  name: string;
  state: string;
  requestTime: number;
  durationMs?: number;
  requestPreview?: string;
  responsePreview?: string;
  sessionId?: string;
  userId?: string;
  runId?: string;
  tokens?: { input?: number; output?: number; total?: number };
  /** User tags (mlflow.* left out). */
  tags: Record<string, string>;
  assessments: AssessmentView[];
}

export interface TracePage {
  rows: TraceRow[];
  nextPageToken?: string;
}

export interface AssessmentView {
  id: string;
  name: string;
  kind: 'feedback' | 'expectation';
  value: unknown;
  rationale?: string;
  sourceType: string;
  sourceId?: string;
  spanId?: string;
  valid: boolean;
  error?: string;
  time: number;
}

export interface SpanEventView {
  name: string;
  timeUs: number;
  attributes: Record<string, unknown>;
}

export interface SpanView {
  spanId: string;
  parentId: string | null;
  name: string;
  type: string;
  status: 'OK' | 'ERROR' | 'UNSET';
  statusMessage?: string;
  startUs: number;
  endUs: number | null;
  inputs?: unknown;
  outputs?: unknown;
  /** Decoded attribute values, MLflow's own span keys left out. */
  attributes: Record<string, unknown>;
  events: SpanEventView[];
  tokens?: { input?: number; output?: number; total?: number };
  model?: string;
  /** Chat messages of an LLM call, when the span carries them. */
  messages?: ChatMessage[];
}

export interface ChatMessage {
  role: string;
  content: string;
  name?: string;
  toolCalls?: string[];
}

export interface TraceDetail {
  row: TraceRow;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  spans: SpanView[];
  /** Why some stored spans could not be shown (a damaged payload file); absent when all were read. */
  spansError?: string;
}

/** One GenAI evaluation dataset in the datasets list. */
export interface EvalDatasetRow {
  datasetId: string;
  name: string;
  /** From the dataset's profile; undefined before any record was added. */
  records?: number;
  createdTime: number;
  lastUpdateTime: number;
  createdBy?: string;
  /** User tags (mlflow.* left out). */
  tags: Record<string, string>;
}

/** One record of an evaluation dataset, its JSON parts as parsed values. */
export interface EvalRecordView {
  recordId: string;
  inputs: unknown;
  expectations?: unknown;
  outputs?: unknown;
  tags: Record<string, unknown>;
  sourceType?: string;
  sourceId?: string;
  createdTime: number;
  lastUpdateTime: number;
}

export interface EvalDatasetDetail {
  dataset: EvalDatasetRow;
  /** Field names and types MLflow inferred from the records (`schema`), when there is one. */
  schema?: unknown;
  experiments: ExperimentSummary[];
  records: EvalRecordView[];
  nextPageToken?: string;
}

/** One session of the Sessions tab: the server's summary as it is. */
export type SessionRow = WireSessionSummary;

export type FeedbackValue = boolean | number | string;

/** Request kind → [request fields, result]. */
export interface UiCalls extends ModelCalls, GovernanceCalls {
  /** `withChildren`: each run's child runs follow it (a sweep is charted through its parent). */
  runs: [{ runIds: string[]; withChildren?: boolean }, RunSummary[]];
  series: [{ runId: string; key: string; axis: Axis; buckets: number }, SeriesResult];
  /** One key's series for several runs (one round trip), in `runIds` order. */
  seriesMany: [{ runIds: string[]; key: string; axis: Axis; buckets: number }, SeriesResult[]];
  experiments: [{ experimentIds: string[] }, ExperimentSummary[]];
  searchRuns: [{ experimentIds: string[]; filter: string; orderBy: string[]; pageToken?: string; maxResults: number }, RunPage];
  runRows: [{ runIds: string[] }, RunRow[]];
  runDetail: [{ runId: string }, RunDetail];
  artifacts: [{ runId: string; path?: string }, ArtifactEntry[]];
  artifact: [{ runId: string; path: string }, ArtifactPreview];
  setNote: [{ runId: string; note: string }, { ok: true }];
  searchTraces: [{ experimentIds: string[]; filter: string; orderBy: string[]; pageToken?: string; maxResults: number }, TracePage];
  traceSessions: [{ experimentIds: string[] }, SessionRow[]];
  traceDetail: [{ traceId: string }, TraceDetail];
  traceCount: [{ experimentIds: string[]; filter: string }, number];
  logFeedback: [{ traceId: string; spanId?: string; name: string; value: FeedbackValue; rationale?: string }, AssessmentView];
  evalDatasets: [{ experimentIds: string[] }, EvalDatasetRow[]];
  /** A dataset with one page of records (the next page with `pageToken`). */
  evalDataset: [{ datasetId: string; pageToken?: string }, EvalDatasetDetail];
  /** A view's saved preferences (host memento in VS Code, localStorage in a browser); undefined when none. */
  getPrefs: [{ key: string }, unknown];
  setPrefs: [{ key: string; value: unknown }, { ok: true }];
}

export type UiRequestKind = keyof UiCalls;
export type UiRequest<K extends UiRequestKind = UiRequestKind> = { kind: K } & UiCalls[K][0];
export type UiResult<K extends UiRequestKind> = UiCalls[K][1];

/** Pushed by the host when the store changes. */
export type UiPush =
  | { kind: 'runChanged'; runId: string; experimentId: string }
  | { kind: 'traceChanged'; traceId: string; experimentId: string }
  /** The sidebar's selection changed (the Plots view follows it). */
  | { kind: 'selection'; runIds: string[] };

/** Actions a view asks the editor for (in a browser they navigate or do nothing). */
export type HostAction = 'openDiff' | 'openCharts' | 'openRun' | 'compare' | 'openArtifact' | 'openTrace' | 'openRunTraces' | 'openModel' | 'openRunsTable';
export const HOST_ACTIONS: readonly HostAction[] = ['openDiff', 'openCharts', 'openRun', 'compare', 'openArtifact', 'openTrace', 'openRunTraces', 'openModel', 'openRunsTable'];

/** A registered model (its page) or one of its versions (the version page), for openModel. */
export interface ModelTarget {
  name: string;
  version?: string;
}

/**
 * `path` is set for openArtifact (an artifact of runIds[0]); `traceId` for openTrace; openRunTraces lists runIds[0]'s traces;
 * `model` for openModel (runIds empty); openRunsTable opens the runs table of the experiment ids in `runIds`.
 */
export type ToHost =
  | { type: 'request'; id: number; request: UiRequest }
  /** The view stopped waiting for request `id` (Cancel, a newer load of the same kind): the host aborts its fetches and sends no response. */
  | { type: 'cancel'; id: number }
  | { type: 'action'; action: HostAction; runIds: string[]; path?: string; traceId?: string; model?: ModelTarget }
  /** A traceback line was clicked: open `path` (absolute, as Python printed it) at `line` if it is in the workspace. */
  | { type: 'openSource'; path: string; line: number };
export type ToView = { type: 'response'; id: number; ok: true; result: unknown } | { type: 'response'; id: number; ok: false; error: string } | { type: 'push'; push: UiPush };

/** The layout a runs table keeps per experiment (and a saved view names). */
export interface RunsTableLayout {
  filter?: string;
  orderBy?: string[];
  /** Column ids in display order; undefined: the default columns for the shown runs. */
  columns?: string[];
  /** Column id → width in px, for the columns the user resized. */
  widths?: Record<string, number>;
  /** '' (flat), 'parent' (children under their parent) or a column id such as `params.lr`. */
  groupBy?: string;
}

/** A named layout the user saved in a runs table. */
export interface SavedTableView extends RunsTableLayout {
  name: string;
}

/** What a runs table keeps across reloads (webview state) and per experiment (prefs). */
export interface RunsTableState extends RunsTableLayout {
  experimentIds: string[];
  /** Older states: true meant groupBy 'parent'. */
  groupChildren?: boolean;
}

/** What the host remembers per experiment set for the runs table, so it survives closing the panel. */
export interface RunsTablePrefs extends RunsTableLayout {
  views?: SavedTableView[];
}

/** The prefs key of a runs table on these experiments (order does not matter). */
export function runsTablePrefsKey(experimentIds: string[]): string {
  return `runsTable:${[...experimentIds].map(String).sort().join(',')}`;
}

export interface RunPageState {
  runId: string;
  /** The artifact to preview (path inside the run). */
  artifact?: string;
  /** The image gallery's step per image key. */
  imageSteps?: Record<string, number>;
}

export interface CompareState {
  runIds: string[];
  /** The image gallery's step per image key. */
  imageSteps?: Record<string, number>;
  onlyDifferences?: boolean;
  x?: string;
  y?: string;
  color?: string;
}

/** What the traces list keeps across reloads. */
export interface TracesViewState {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  tab?: 'traces' | 'sessions';
  session?: string;
}

/** What the evaluation datasets view keeps across reloads. */
export interface DatasetsViewState {
  experimentIds: string[];
  datasetId?: string;
}

/** What the trace viewer keeps across reloads. */
export interface TraceViewState {
  traceId: string;
  span?: string;
  search?: string;
  tab?: string;
}

/** What a charts view keeps across reloads (webview state, URL in the browser). */
export interface ChartsState {
  runIds: string[];
  /** The metrics the user ticked; unset, the view picks (stepped metrics, most points first). */
  keys?: string[];
  /** Runs hidden from every chart (toggled in the run legend). */
  hidden?: string[];
  /** Smallest chart width in the grid, in pixels. */
  chartWidth?: number;
  search?: string;
  axis?: 'step' | 'wall' | 'relative';
  smoothing?: number;
  logScale?: boolean;
}

/** What the sidebar's Plots view shows: the runs selected in the tree. */
export interface PlotsState {
  runIds: string[];
}

/** A string literal for the MLflow filter language (a quote inside is doubled). */
export function filterString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The trace filter for one run's traces (source run or linked with link-to-run). */
export function runTracesFilter(runId: string): string {
  return `run_id = ${filterString(runId)}`;
}

export function isToHost(m: unknown): m is ToHost {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'action') {
    const a = m as { action?: unknown; runIds?: unknown };
    return (HOST_ACTIONS as readonly string[]).includes(String(a.action)) && Array.isArray(a.runIds) && a.runIds.every((x) => typeof x === 'string');
  }
  if (t === 'openSource') {
    const o = m as { path?: unknown; line?: unknown };
    return typeof o.path === 'string' && o.path.length > 0 && Number.isInteger(o.line) && (o.line as number) >= 1;
  }
  if (t === 'cancel') return typeof (m as { id?: unknown }).id === 'number';
  return t === 'request' && typeof (m as { id?: unknown }).id === 'number' && typeof (m as { request?: { kind?: unknown } }).request?.kind === 'string';
}
