/**
 * Traces (MLflow 3): trace info, tags, metadata, run links and assessments; span payloads; OTLP
 * ingest; trace metrics. A trace's payload folder (`payloadPath`) is an artifact path holding
 * TRACE_FILE (what the Python client uploads), OTLP_SPANS_FILE (spans received over OTLP) and
 * `attachments/`.
 */
import type { Assessment, SessionSummary, SpanDict, SpanSummary, TraceInfo, TraceState } from '../../domain/traceTypes';
import type { Page } from '../../domain/types';

export const SEARCH_TRACES_DEFAULT_MAX_RESULTS = 100;
export const SEARCH_TRACES_MAX_RESULTS = 500;
/** Room for a full Runlens view page; the REST handler still caps client requests at 500. */
export const SEARCH_TRACES_VIEW_MAX_RESULTS = 5000;
export const TRACE_FILE = 'traces.json';
export const OTLP_SPANS_FILE = 'spans.jsonl';

export interface StartTraceRequest {
  traceId: string;
  experimentId: string;
  requestTimeMs: number;
  durationMs?: number | undefined;
  state: TraceState;
  clientRequestId?: string | undefined;
  requestPreview?: string | undefined;
  responsePreview?: string | undefined;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  assessments: NewAssessment[];
  /** StartTraceV3 writes the trace's final info; MLflow 2's StartTrace only opens it (default true). */
  finalized?: boolean | undefined;
}

/** An assessment as a client sends it: the server assigns id, times and validity when absent. */
export type NewAssessment = Omit<Assessment, 'assessment_id' | 'create_time' | 'last_update_time' | 'valid' | 'trace_id'> & {
  assessment_id?: string | undefined;
  create_time?: string | undefined;
  valid?: boolean | undefined;
};

export type AssessmentField = 'assessment_name' | 'feedback' | 'expectation' | 'rationale' | 'metadata' | 'valid' | 'span_id';

export interface SearchTracesRequest {
  experimentIds: string[];
  filter?: string | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
  /** Raises the page-size cap for Runlens' own views (REST requests keep MLflow's 500). */
  maxResultsCap?: number | undefined;
}

export interface DeleteTracesRequest {
  experimentId: string;
  maxTimestampMillis?: number | undefined;
  maxTraces?: number | undefined;
  traceIds?: string[] | undefined;
}

/** A span that arrived over OTLP, with the hex trace id it belongs to and its resource's attributes. */
export interface IncomingSpan {
  traceIdHex: string;
  span: SpanDict;
  resource?: Record<string, unknown> | undefined;
}

// ---- QueryTraceMetrics (service.proto, MLflow 3.17.2) ----------------------------------------

export type TraceMetricsView = 'TRACES' | 'SPANS' | 'ASSESSMENTS';
export type AggregationType = 'COUNT' | 'SUM' | 'AVG' | 'PERCENTILE' | 'MIN' | 'MAX';
export interface Aggregation {
  type: AggregationType;
  percentile?: number | undefined;
}

export interface MetricsQuery {
  experimentIds: number[];
  view: TraceMetricsView;
  metric: string;
  aggregations: Aggregation[];
  dimensions: string[];
  filters: string[];
  intervalSeconds?: number | undefined;
  startMs?: number | undefined;
  endMs?: number | undefined;
  maxResults: number;
}

export interface MetricDataPoint {
  metric_name: string;
  dimensions?: Record<string, string>;
  values: Record<string, number>;
}

export interface TraceStore {
  start(req: StartTraceRequest): Promise<TraceInfo>;
  /** MLflow 2's EndTrace: closes a trace StartTrace opened. */
  endV2(traceId: string, endMs: number, state: TraceState, metadata: Record<string, string>, tags: Record<string, string>): Promise<TraceInfo>;
  get(traceId: string): Promise<TraceInfo>;
  /** The known traces among the ids (unknown ids drop out). */
  getMany(traceIds: string[]): Promise<TraceInfo[]>;
  search(req: SearchTracesRequest): Promise<Page<TraceInfo>>;
  metrics(q: MetricsQuery): Promise<MetricDataPoint[]>;
  count(experimentIds: string[], filter?: string): Promise<number>;
  sessions(experimentIds: string[], limit?: number): Promise<SessionSummary[]>;
  /** Resolves to how many traces were deleted. */
  delete(req: DeleteTracesRequest): Promise<number>;
  setTag(traceId: string, key: string, value: string): Promise<void>;
  deleteTag(traceId: string, key: string): Promise<void>;
  linkToRun(traceIds: string[], runId: string): Promise<void>;
  createAssessment(traceId: string, input: NewAssessment): Promise<Assessment>;
  getAssessment(traceId: string, assessmentId: string): Promise<Assessment>;
  updateAssessment(traceId: string, assessmentId: string, patch: Partial<Assessment>, fields: AssessmentField[]): Promise<Assessment>;
  deleteAssessment(traceId: string, assessmentId: string): Promise<void>;
  /** The trace whose TRACE_FILE this artifact path is (an upload the store validates), if any. */
  traceForUpload(artifactPath: string): Promise<string | undefined>;
  /** A client's TRACE_FILE upload: validated and indexed before it is kept. */
  acceptTracesJson(traceId: string, body: Buffer): Promise<void>;
  /** Spans received over OTLP for one experiment. */
  ingest(experimentId: string, incoming: IncomingSpan[]): Promise<{ traces: number; spans: number }>;
  spanSummaries(traceId: string): Promise<SpanSummary[]>;
  /** The artifact path of the trace's payload folder. */
  payloadPath(traceId: string): Promise<string>;
  /** All span payloads, in start order. */
  readSpans(traceId: string): Promise<SpanDict[]>;
  /** As readSpans, with a note per payload that could not be read (left out, never failing the read). */
  readSpansNoting(traceId: string): Promise<{ spans: SpanDict[]; errors: string[] }>;
}
