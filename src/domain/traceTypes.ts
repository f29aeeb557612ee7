/**
 * Trace entities in MLflow's v3 wire shape (TraceInfoV3, Assessment), and the span dictionary
 * the Python client writes to `traces.json` — the one span format Runlens stores, whichever way
 * a span arrived (the client's upload or OTLP).
 */
export const TRACE_STATES = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'] as const;
export type TraceState = (typeof TRACE_STATES)[number];

export const ASSESSMENT_SOURCE_TYPES = ['SOURCE_TYPE_UNSPECIFIED', 'HUMAN', 'LLM_JUDGE', 'CODE'] as const;
export type AssessmentSourceType = (typeof ASSESSMENT_SOURCE_TYPES)[number];

/** Well-known keys the client writes into trace metadata and tags. */
export const TraceKeys = {
  traceName: 'mlflow.traceName',
  artifactLocation: 'mlflow.artifactLocation',
  spansLocation: 'mlflow.trace.spansLocation',
  sourceRun: 'mlflow.sourceRun',
  tokenUsage: 'mlflow.trace.tokenUsage',
  session: 'mlflow.trace.session',
  user: 'mlflow.trace.user',
  schemaVersion: 'mlflow.trace_schema.version',
  /** Set once StartTraceV3 wrote the trace's own fields; later OTLP spans then leave them alone. */
  infoFinalized: 'mlflow.trace.infoFinalized',
} as const;

/** Span attribute keys of MLflow's span schema (values are JSON-encoded strings). */
export const SpanKeys = {
  requestId: 'mlflow.traceRequestId',
  type: 'mlflow.spanType',
  inputs: 'mlflow.spanInputs',
  outputs: 'mlflow.spanOutputs',
  chatTokenUsage: 'mlflow.chat.tokenUsage',
  chatMessages: 'mlflow.chat.messages',
} as const;

export interface AssessmentError {
  error_code?: string;
  error_message?: string;
  stack_trace?: string;
}

export interface Assessment {
  assessment_id: string;
  assessment_name: string;
  trace_id: string;
  span_id?: string;
  source: { source_type: AssessmentSourceType; source_id?: string };
  /** RFC 3339 timestamps, as protobuf JSON writes google.protobuf.Timestamp. */
  create_time: string;
  last_update_time: string;
  feedback?: { value?: unknown; error?: AssessmentError };
  expectation?: { value?: unknown; serialized_value?: { serialization_format: string; value: string } };
  rationale?: string;
  error?: AssessmentError;
  metadata?: Record<string, string>;
  overrides?: string;
  valid: boolean;
}

export interface TraceInfo {
  trace_id: string;
  client_request_id?: string;
  trace_location: { type: 'MLFLOW_EXPERIMENT'; mlflow_experiment: { experiment_id: string } };
  request_preview?: string;
  response_preview?: string;
  request_time: string;
  /** protobuf Duration JSON: `"0.125s"`. */
  execution_duration?: string;
  state: TraceState;
  trace_metadata: Record<string, string>;
  tags: Record<string, string>;
  assessments: Assessment[];
}

/** One span as `Span.to_dict()` writes it: ids base64, times in ns, attribute values JSON strings. */
export interface SpanDict {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  start_time_unix_nano: number | string;
  end_time_unix_nano: number | string | null;
  attributes: Record<string, unknown>;
  status: { code: string; message?: string };
  events: { name: string; time_unix_nano: number | string; attributes?: Record<string, unknown> }[];
  links?: unknown[];
  trace_state?: string;
}

/** What sql.js keeps per span: enough to filter and draw a tree, never the payload. */
export interface SpanSummary {
  spanId: string;
  parentId: string | null;
  name: string;
  type: string;
  status: 'OK' | 'ERROR' | 'UNSET';
  /** Microseconds since the epoch (ns do not fit a double). */
  startUs: number;
  endUs: number | null;
  /** Short scalar attributes (decoded), for `span.attributes.<key>` filters. */
  attributes: [key: string, value: string][];
}

export interface TokenUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
}

/** Traces sharing a session id (metadata `mlflow.trace.session`). */
export interface SessionSummary {
  sessionId: string;
  traces: number;
  firstTime: number;
  lastTime: number;
  totalTokens: number;
  errors: number;
  userId: string | null;
}
