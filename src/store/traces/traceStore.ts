/**
 * Traces (MLflow 3): trace info, tags and metadata, links to runs and assessments in sql.js;
 * span payloads in the trace's own folder under the experiment's artifact location:
 *   <exp>/traces/<trace id>/artifacts/traces.json   what the Python client uploads
 *   <exp>/traces/<trace id>/artifacts/spans.jsonl   spans received over OTLP, appended
 * sql.js keeps a one-row-per-span index (name, type, status, times) for search and the tree.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../artifacts/artifactStore';
import { proxyPath } from '../../domain/artifactUri';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import { parseJsonBounded } from '../../domain/jsonDepth';
import { MAX_ENTITY_KEY_LENGTH, MAX_TAG_VAL_LENGTH, validateLength } from '../limits';
import type { KV } from '../opTypes';
import { decodePageToken, encodePageToken, pageFromLookahead } from '../search/pageToken';
import { placeholders, type Params } from '../sqlite';
import {
  OTLP_SPANS_FILE,
  SEARCH_TRACES_DEFAULT_MAX_RESULTS,
  SEARCH_TRACES_MAX_RESULTS,
  TRACE_FILE,
  type AssessmentField,
  type DeleteTracesRequest,
  type IncomingSpan,
  type MetricDataPoint,
  type MetricsQuery,
  type NewAssessment,
  type SearchTracesRequest,
  type StartTraceRequest,
  type TraceStore,
} from '../../backend/api/traces';
import type { StoreCore } from '../storeCore';
import type { Page } from '../../domain/types';
import { storedUsage } from './otelTranslate';
import { planIngest, translateSpan, withServiceName, type TraceSoFar } from './otlpIngest';
import { pyJsonDumps } from '../../domain/pyJson';
import { checkSpanDict, summarizeSpan } from './spanCodec';
import { bloomHasAll, likeMatcher, spanContentText, TEXT_BLOOM_KEY } from './spanText';
import type { JournalSpan, TraceOp } from './traceOps';
import { queryTraceMetrics } from './traceMetrics';
import { compileTraceFilter, compileTraceOrder } from './traceSearch';
import { SpanKeys, TraceKeys, type Assessment, type SessionSummary, type SpanDict, type SpanSummary, type TraceInfo, type TraceState } from '../../domain/traceTypes';

export const MAX_PREVIEW_CHARS = 1000;
export const MAX_LINK_TRACES = 100;
export const SPANS_IN_TRACKING_STORE = 'TRACKING_STORE';

const TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Tags the server owns: where a trace's files live decides what deleting it removes. */
const SERVER_TAGS = new Set<string>([TraceKeys.artifactLocation, TraceKeys.spansLocation]);

interface TraceRow {
  id: number;
  trace_id: string;
  experiment_id: number;
  request_time: number;
  execution_ms: number | null;
  state: TraceState;
  client_request_id: string | null;
  request_preview: string | null;
  response_preview: string | null;
}

const TRACE_COLUMNS = 't.id, t.trace_id, t.experiment_id, t.request_time, t.execution_ms, t.state, t.client_request_id, t.request_preview, t.response_preview';

/** Largest time a Date can hold (ms); a stored time beyond it must not fail every read of its trace. */
const MAX_DATE_MS = 8.64e15;

export function timestampJson(ms: number): string {
  return new Date(Number.isFinite(ms) ? Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, ms)) : 0).toISOString();
}

export function durationJson(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

export function newAssessmentId(): string {
  return `a-${randomBytes(16).toString('hex')}`;
}

function truncate(text: string | undefined, limit: number): string | undefined {
  return text === undefined || text.length <= limit ? text : text.slice(0, limit);
}

function entries(map: Record<string, string>): KV[] {
  return Object.entries(map).map(([k, v]) => [k, v]);
}

function journalSpan(s: SpanSummary): JournalSpan {
  return [s.spanId, s.parentId, s.name, s.type, s.status, s.startUs, s.endUs, s.attributes];
}


/** The artifact location a new trace gets inside its experiment's. */
function newTraceLocation(experimentLocation: string, traceId: string): string {
  return `${experimentLocation.replace(/\/+$/, '')}/traces/${traceId}/artifacts`;
}

/**
 * A trace's folder in this store's artifact tree: its `mlflow-artifacts:` location, or for any
 * other location (e.g. `file:///…`, where the client writes traces.json itself) the folder under
 * the experiment's id where spans sent to the server (OTLP) land.
 */
function traceDir(location: string | undefined, experimentId: number, traceId: string): string {
  return (location === undefined ? undefined : proxyPath(location)) ?? `${experimentId}/traces/${traceId}/artifacts`;
}

/** Experiment ids as sql.js keys; a non-numeric id is a clear error, not an empty result. */
function experimentKeys(experimentIds: string[]): number[] {
  return experimentIds.map((e) => {
    if (!/^\d+$/.test(e)) throw invalidParameter(`Invalid experiment ID '${e}'.`);
    return Number(e);
  });
}

export class Traces implements TraceStore {
  constructor(
    private readonly core: StoreCore,
    private readonly artifacts: ArtifactStore,
  ) {
    // Span text search (trace.text, span.content): the Bloom filters prune in SQL, then this reads
    // the few candidate traces' payloads and applies the LIKE exactly (see spanText.ts).
    const matchers = new Map<string, (text: string) => boolean>();
    core.db.defineFunction('rl_bloom_has', (bloom: unknown, bits: unknown) => (typeof bloom === 'string' && bloomHasAll(bloom, JSON.parse(String(bits)) as number[]) ? 1 : 0));
    core.db.defineFunction('rl_trace_text_like', (traceId: unknown, pattern: unknown, ignoreCase: unknown) => {
      const p = `${ignoreCase ? 'i' : 's'}${String(pattern)}`;
      let match = matchers.get(p);
      if (!match) {
        if (matchers.size > 64) matchers.clear();
        match = likeMatcher(String(pattern), Boolean(ignoreCase));
        matchers.set(p, match);
      }
      return this.spansNoting(String(traceId)).spans.some((s) => match(spanContentText(s))) ? 1 : 0;
    });
  }

  private write(op: TraceOp, traceId: string, experimentId: number): Promise<void> {
    return this.core.write(op, { kind: 'trace', traceId, experimentId: String(experimentId) });
  }

  // ---- lookups --------------------------------------------------------------------------

  private activeExperiment(experimentId: string): { id: number; location: string } {
    const id = /^\d+$/.test(experimentId) ? Number(experimentId) : NaN;
    const row = Number.isSafeInteger(id)
      ? this.core.db.get<{ artifact_location: string; lifecycle_stage: string }>('SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?', [id])
      : undefined;
    if (!row) throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    if (row.lifecycle_stage !== 'active') throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    return { id, location: row.artifact_location };
  }

  private row(traceId: string): TraceRow {
    const row = this.core.db.get<TraceRow>(`SELECT ${TRACE_COLUMNS} FROM traces t WHERE t.trace_id = ?`, [traceId]);
    if (!row) throw doesNotExist(`Trace with ID '${traceId}' not found.`);
    return row;
  }

  /** One value of a trace's tags or metadata. */
  private keyValue(table: 'trace_tags' | 'trace_metadata', trace: number, key: string): string | undefined {
    const v = this.core.db.value(`SELECT value FROM ${table} WHERE trace = ? AND key = ?`, [trace, key]);
    return v === undefined || v === null ? undefined : String(v);
  }

  private tag(trace: number, key: string): string | undefined {
    return this.keyValue('trace_tags', trace, key);
  }

  private metadataValue(trace: number, key: string): string | undefined {
    return this.keyValue('trace_metadata', trace, key);
  }

  private checkTraceId(traceId: string): void {
    if (!TRACE_ID.test(traceId)) throw invalidParameter(`Invalid trace ID '${traceId}': expected letters, digits, '_', '.' or '-' (e.g. tr-<32 hex digits>).`);
  }

  /** The trace's folder in this store's artifact tree (see `traceDir`). */
  private payloadDir(row: { id: number; trace_id: string; experiment_id: number }): string {
    return traceDir(this.tag(row.id, TraceKeys.artifactLocation), row.experiment_id, row.trace_id);
  }

  private load(rows: TraceRow[]): TraceInfo[] {
    if (rows.length === 0) return [];
    const db = this.core.db;
    const ids = rows.map((r) => r.id);
    const byTrace = <T>(sql: string): Map<number, T[]> => {
      const out = new Map<number, T[]>();
      for (const r of db.all<T & { trace: number }>(sql, ids)) {
        const list = out.get(r.trace) ?? [];
        list.push(r);
        out.set(r.trace, list);
      }
      return out;
    };
    const tags = byTrace<{ key: string; value: string }>(`SELECT trace, key, value FROM trace_tags WHERE trace IN (${placeholders(ids.length)})`);
    const metadata = byTrace<{ key: string; value: string }>(`SELECT trace, key, value FROM trace_metadata WHERE trace IN (${placeholders(ids.length)})`);
    const assessments = byTrace<{ body: string }>(`SELECT trace, body FROM assessments WHERE trace IN (${placeholders(ids.length)}) ORDER BY rowid`);
    return rows.map((r) => {
      const info: TraceInfo = {
        trace_id: r.trace_id,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(r.experiment_id) } },
        request_time: timestampJson(r.request_time),
        state: r.state,
        trace_metadata: Object.fromEntries((metadata.get(r.id) ?? []).map((m) => [m.key, m.value])),
        tags: Object.fromEntries((tags.get(r.id) ?? []).map((t) => [t.key, t.value])),
        assessments: (assessments.get(r.id) ?? []).map((a) => JSON.parse(a.body) as Assessment),
      };
      if (r.client_request_id !== null) info.client_request_id = r.client_request_id;
      if (r.request_preview !== null) info.request_preview = r.request_preview;
      if (r.response_preview !== null) info.response_preview = r.response_preview;
      if (r.execution_ms !== null) info.execution_duration = durationJson(r.execution_ms);
      return info;
    });
  }

  // ---- trace info -----------------------------------------------------------------------

  /** StartTraceV3: records (or completes) a trace and tells the client where its spans go. */
  async start(req: StartTraceRequest): Promise<TraceInfo> {
    this.checkTraceId(req.traceId);
    const existing = this.core.db.get<{ id: number; experiment_id: number }>('SELECT id, experiment_id FROM traces WHERE trace_id = ?', [req.traceId]);
    // As MLflow's SQL store: the experiment named by the call must be active, and a trace id that
    // already exists elsewhere (seeded random ids repeat across scripts) moves to it.
    const exp = this.activeExperiment(req.experimentId);
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.tags)) {
      if (SERVER_TAGS.has(k)) continue;
      validateLength('trace tag key', k, MAX_ENTITY_KEY_LENGTH);
      tags[k] = truncate(v, MAX_TAG_VAL_LENGTH)!;
    }
    if (!existing) tags[TraceKeys.artifactLocation] = newTraceLocation(exp.location, req.traceId);
    const now = new Date().toISOString();
    const assessments = req.assessments.map((a) => this.completeAssessment(req.traceId, a, now));
    await this.write(
      {
        t: 'tr.upsert',
        id: req.traceId,
        exp: exp.id,
        time: req.requestTimeMs,
        durationMs: req.durationMs ?? null,
        state: req.state,
        clientRequestId: req.clientRequestId ?? null,
        requestPreview: truncate(req.requestPreview, MAX_PREVIEW_CHARS) ?? null,
        responsePreview: truncate(req.responsePreview, MAX_PREVIEW_CHARS) ?? null,
        metadata: req.finalized === false ? entries(req.metadata) : [...entries(req.metadata), [TraceKeys.infoFinalized, 'true']],
        tags: entries(tags),
        assessments,
      },
      req.traceId,
      exp.id,
    );
    return this.get(req.traceId);
  }

  /** MLflow 2's EndTrace: execution time up to `endMs`, the final state, metadata and tags merged in. */
  async endV2(traceId: string, endMs: number, state: TraceState, metadata: Record<string, string>, tags: Record<string, string>): Promise<TraceInfo> {
    const row = this.row(traceId);
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags)) {
      if (SERVER_TAGS.has(k)) continue;
      validateLength('trace tag key', k, MAX_ENTITY_KEY_LENGTH);
      own[k] = truncate(v, MAX_TAG_VAL_LENGTH)!;
    }
    await this.write(
      { t: 'tr.upsert', id: traceId, exp: row.experiment_id, time: row.request_time, durationMs: endMs - row.request_time, state, metadata: entries(metadata), tags: entries(own) },
      traceId,
      row.experiment_id,
    );
    return this.get(traceId);
  }

  async get(traceId: string): Promise<TraceInfo> {
    return this.load([this.row(traceId)])[0]!;
  }

  /** Trace infos for ids that exist, in the order asked; unknown ids are skipped. */
  async getMany(traceIds: string[]): Promise<TraceInfo[]> {
    if (traceIds.length === 0) return [];
    const rows = this.core.db.all<TraceRow>(`SELECT ${TRACE_COLUMNS} FROM traces t WHERE t.trace_id IN (${placeholders(traceIds.length)})`, traceIds);
    const order = new Map(traceIds.map((id, i) => [id, i]));
    rows.sort((a, b) => order.get(a.trace_id)! - order.get(b.trace_id)!);
    return this.load(rows);
  }

  async search(req: SearchTracesRequest): Promise<Page<TraceInfo>> {
    if (req.experimentIds.length === 0) throw invalidParameter('At least one experiment location is required to search traces.');
    const cap = req.maxResultsCap ?? SEARCH_TRACES_MAX_RESULTS;
    const limit = req.maxResults ?? SEARCH_TRACES_DEFAULT_MAX_RESULTS;
    if (!Number.isInteger(limit) || limit < 1 || limit > cap) {
      throw invalidParameter(`Invalid value ${limit} for parameter 'max_results' supplied. It must be between 1 and ${cap}.`);
    }
    const expIds = experimentKeys(req.experimentIds);
    const params: Params = [...expIds];
    const where = [`t.experiment_id IN (${placeholders(expIds.length)})`, ...compileTraceFilter(req.filter, params)];
    const offset = decodePageToken(req.pageToken);
    params.push(limit + 1, offset);
    const rows = this.core.db.all<TraceRow>(
      `SELECT ${TRACE_COLUMNS} FROM traces t WHERE ${where.join(' AND ')} ORDER BY ${compileTraceOrder(req.orderBy)} LIMIT ? OFFSET ?`,
      params,
    );
    const page = pageFromLookahead(rows, limit, offset, (r) => this.load(r));
    // As MLflow's search_traces: a full page always carries a token, even when nothing follows.
    if (page.items.length === limit && page.nextPageToken === undefined) page.nextPageToken = encodePageToken(offset + limit);
    return page;
  }

  /** QueryTraceMetrics over the index (see traceMetrics.ts). */
  async metrics(q: MetricsQuery): Promise<MetricDataPoint[]> {
    return queryTraceMetrics(this.core.db, q);
  }

  /** Number of traces matching, for list views (same filter language). */
  async count(experimentIds: string[], filter?: string): Promise<number> {
    const params: Params = experimentKeys(experimentIds);
    const where = [`t.experiment_id IN (${placeholders(experimentIds.length)})`, ...compileTraceFilter(filter, params)];
    return Number(this.core.db.value(`SELECT count(*) FROM traces t WHERE ${where.join(' AND ')}`, params));
  }

  /** Traces grouped by session id (metadata `mlflow.trace.session`), newest activity first. */
  async sessions(experimentIds: string[], limit = 1000): Promise<SessionSummary[]> {
    if (experimentIds.length === 0) return [];
    const ids = experimentKeys(experimentIds);
    return this.core.db.all<SessionSummary>(
      `SELECT session_id AS sessionId, count(*) AS traces, min(request_time) AS firstTime,
              max(request_time + coalesce(execution_ms, 0)) AS lastTime, sum(coalesce(total_tokens, 0)) AS totalTokens,
              sum(CASE WHEN state = 'ERROR' THEN 1 ELSE 0 END) AS errors, max(user_id) AS userId
       FROM traces WHERE experiment_id IN (${placeholders(ids.length)}) AND session_id IS NOT NULL
       GROUP BY session_id ORDER BY lastTime DESC LIMIT ?`,
      [...ids, limit],
    );
  }

  async delete(req: DeleteTracesRequest): Promise<number> {
    const exp = this.activeExperiment(req.experimentId);
    const hasIds = req.traceIds !== undefined && req.traceIds.length > 0;
    if (hasIds === (req.maxTimestampMillis !== undefined)) {
      throw invalidParameter('Exactly one of `max_timestamp_millis` and `request_ids` must be specified.');
    }
    if (req.maxTraces !== undefined && req.maxTraces <= 0) throw invalidParameter('`max_traces` must be a positive integer.');
    let rows: { id: number; trace_id: string }[];
    if (hasIds) {
      rows = this.core.db.all(`SELECT id, trace_id FROM traces WHERE experiment_id = ? AND trace_id IN (${placeholders(req.traceIds!.length)})`, [exp.id, ...req.traceIds!]);
    } else {
      const params: Params = [exp.id, req.maxTimestampMillis!];
      let sql = 'SELECT id, trace_id FROM traces WHERE experiment_id = ? AND request_time <= ? ORDER BY request_time ASC';
      if (req.maxTraces !== undefined) {
        sql += ' LIMIT ?';
        params.push(req.maxTraces);
      }
      rows = this.core.db.all(sql, params);
    }
    if (rows.length === 0) return 0;
    // Only a trace's own folder is ever removed, whatever its location tag says.
    const dirs = rows.map((r) => {
      const dir = this.payloadDir({ ...r, experiment_id: exp.id });
      return dir.endsWith(`/traces/${r.trace_id}/artifacts`) ? dir.slice(0, -'/artifacts'.length) : undefined;
    });
    await this.write({ t: 'tr.delete', ids: rows.map((r) => r.trace_id) }, rows[0]!.trace_id, exp.id);
    for (const dir of dirs) {
      // The rows are gone for good; a payload left behind by a crash here is only disk space.
      if (dir !== undefined) fs.rmSync(this.artifacts.localPath(dir), { recursive: true, force: true });
    }
    return rows.length;
  }

  private checkUserTag(key: string): void {
    if (SERVER_TAGS.has(key)) throw invalidParameter(`Trace tag '${key}' is set by the server and cannot be changed.`);
  }

  async setTag(traceId: string, key: string, value: string): Promise<void> {
    const row = this.row(traceId);
    if (key === '') throw invalidParameter("Missing value for required parameter 'key'.");
    this.checkUserTag(key);
    validateLength('trace tag key', key, MAX_ENTITY_KEY_LENGTH);
    await this.write({ t: 'tr.setTag', id: traceId, key, value: truncate(value, MAX_TAG_VAL_LENGTH)! }, traceId, row.experiment_id);
  }

  async deleteTag(traceId: string, key: string): Promise<void> {
    const row = this.row(traceId);
    this.checkUserTag(key);
    if (this.tag(row.id, key) === undefined) throw doesNotExist(`No trace tag with key '${key}' for trace with ID '${traceId}'`);
    await this.write({ t: 'tr.deleteTag', id: traceId, key }, traceId, row.experiment_id);
  }

  async linkToRun(traceIds: string[], runId: string): Promise<void> {
    if (traceIds.length === 0) return;
    if (traceIds.length > MAX_LINK_TRACES) throw invalidParameter(`Cannot link more than ${MAX_LINK_TRACES} traces to a run in a single request. Provided ${traceIds.length} traces.`);
    // As MLflow's server, neither the run nor the traces are looked up: a trace still being
    // exported (no info yet) is linked when it arrives (trace_pending_runs).
    const known = traceIds.find((id) => this.core.db.value('SELECT 1 FROM traces WHERE trace_id = ?', [id]) !== undefined);
    const op: TraceOp = { t: 'tr.link', ids: traceIds, runId };
    if (known) await this.write(op, known, this.row(known).experiment_id);
    else await this.core.write(op);
  }

  // ---- assessments ----------------------------------------------------------------------

  private completeAssessment(traceId: string, a: NewAssessment, now: string): Assessment {
    if (!a.assessment_name) throw invalidParameter("Missing value for required parameter 'assessment.assessment_name'.");
    validateLength('assessment name', a.assessment_name, MAX_ENTITY_KEY_LENGTH);
    if ((a.feedback === undefined) === (a.expectation === undefined)) {
      throw invalidParameter(`Assessment '${a.assessment_name}' must have exactly one of 'feedback' or 'expectation'.`);
    }
    const out: Assessment = {
      ...a,
      assessment_id: a.assessment_id || newAssessmentId(),
      trace_id: traceId,
      source: a.source ?? { source_type: 'SOURCE_TYPE_UNSPECIFIED' },
      create_time: a.create_time ?? now,
      last_update_time: now,
      valid: a.valid ?? true,
    };
    return out;
  }

  private assessmentRow(traceId: string, assessmentId: string): Assessment {
    const trace = this.row(traceId);
    const body = this.core.db.value('SELECT body FROM assessments WHERE assessment_id = ? AND trace = ?', [assessmentId, trace.id]);
    if (body === undefined) throw doesNotExist(`Assessment with ID '${assessmentId}' not found for trace '${traceId}'`);
    return JSON.parse(String(body)) as Assessment;
  }

  async createAssessment(traceId: string, input: NewAssessment): Promise<Assessment> {
    const row = this.row(traceId);
    const assessment = this.completeAssessment(traceId, { ...input, assessment_id: undefined }, new Date().toISOString());
    if (assessment.overrides) this.assessmentRow(traceId, assessment.overrides);
    await this.write({ t: 'as.put', trace: traceId, assessment, invalidate: assessment.overrides }, traceId, row.experiment_id);
    return assessment;
  }

  async getAssessment(traceId: string, assessmentId: string): Promise<Assessment> {
    return this.assessmentRow(traceId, assessmentId);
  }

  async updateAssessment(traceId: string, assessmentId: string, patch: Partial<Assessment>, fields: AssessmentField[]): Promise<Assessment> {
    const row = this.row(traceId);
    const current = this.assessmentRow(traceId, assessmentId);
    const next: Assessment = { ...current, last_update_time: new Date().toISOString() };
    const apply = fields.length > 0 ? fields : (Object.keys(patch) as AssessmentField[]);
    for (const f of apply) {
      switch (f) {
        case 'assessment_name':
          if (!patch.assessment_name) throw invalidParameter('assessment_name cannot be empty.');
          next.assessment_name = patch.assessment_name;
          break;
        case 'feedback':
          if (current.expectation) throw invalidParameter('Cannot update an expectation assessment with a feedback value.');
          next.feedback = patch.feedback ?? {};
          break;
        case 'expectation':
          if (current.feedback) throw invalidParameter('Cannot update a feedback assessment with an expectation value.');
          next.expectation = patch.expectation ?? {};
          break;
        case 'rationale':
          if (patch.rationale === undefined) delete next.rationale;
          else next.rationale = patch.rationale;
          break;
        case 'metadata':
          next.metadata = { ...(current.metadata ?? {}), ...(patch.metadata ?? {}) };
          break;
        case 'valid':
          next.valid = patch.valid ?? true;
          break;
        case 'span_id':
          if (patch.span_id === undefined) delete next.span_id;
          else next.span_id = patch.span_id;
          break;
        default:
          break;
      }
    }
    await this.write({ t: 'as.put', trace: traceId, assessment: next }, traceId, row.experiment_id);
    return next;
  }

  async deleteAssessment(traceId: string, assessmentId: string): Promise<void> {
    const row = this.row(traceId);
    const current = this.assessmentRow(traceId, assessmentId);
    if (current.overrides) {
      // Deleting an override brings back the assessment it replaced.
      const replaced = this.core.db.value('SELECT body FROM assessments WHERE assessment_id = ?', [current.overrides]);
      if (replaced !== undefined) {
        const restored = { ...(JSON.parse(String(replaced)) as Assessment), valid: true };
        await this.write({ t: 'as.put', trace: traceId, assessment: restored }, traceId, row.experiment_id);
      }
    }
    await this.write({ t: 'as.delete', id: assessmentId }, traceId, row.experiment_id);
  }

  // ---- spans ----------------------------------------------------------------------------

  /**
   * The trace whose `traces.json` an artifact path names, if that trace exists here. Decided on
   * where the path really lands (see ArtifactStore.canonicalPath): `traces/<id>/artifacts/./traces.json`,
   * a `%2F` spelling, a symlink or another letter case on a case-insensitive file system all reach
   * the same file, so they all get the same validation.
   */
  async traceForUpload(artifactPath: string): Promise<string | undefined> {
    const target = this.artifacts.canonicalPath(artifactPath);
    const m = /^(?:.*\/)?traces\/([^/]+)\/artifacts\/traces\.json$/i.exec(target);
    if (!m) return undefined;
    for (const id of new Set([m[1]!, m[1]!.toLowerCase()])) {
      const row = this.core.db.get<{ id: number; trace_id: string; experiment_id: number }>('SELECT id, trace_id, experiment_id FROM traces WHERE trace_id = ?', [id]);
      if (row && this.artifacts.canonicalPath(`${this.payloadDir(row)}/${TRACE_FILE}`).toLowerCase() === target.toLowerCase()) return row.trace_id;
    }
    return undefined;
  }

  /** Accepts the client's traces.json upload: validated whole before anything is written. */
  async acceptTracesJson(traceId: string, body: Buffer): Promise<void> {
    const row = this.row(traceId);
    let parsed: unknown;
    try {
      parsed = parseJsonBounded(body.toString('utf8'));
    } catch (err) {
      throw invalidParameter(`Trace data for '${traceId}' is not valid JSON: ${(err as Error).message}`);
    }
    const spans = (parsed as { spans?: unknown } | null)?.spans;
    if (!Array.isArray(spans)) throw invalidParameter(`Trace data for '${traceId}' must be an object with a 'spans' list.`);
    const summaries = spans.map((s, i) => summarizeSpan(checkSpanDict(s, i)));
    // Always the trace's own file, whichever spelling of it the client used.
    await this.artifacts.write(`${this.payloadDir(row)}/${TRACE_FILE}`, Readable.from([body]));
    await this.write({ t: 'tr.spans', id: traceId, spans: summaries.map(journalSpan) }, traceId, row.experiment_id);
  }

  /**
   * Stores spans received over OTLP, grouped by trace: each span translated from its GenAI
   * convention (see otelTranslate.ts), payloads appended to the trace's spans.jsonl (fsynced),
   * then one journaled op per trace with its info and span index. Like MLflow, the experiment is
   * looked up only for a trace it has not seen.
   */
  async ingest(experimentId: string, incoming: IncomingSpan[]): Promise<{ traces: number; spans: number }> {
    const groups = new Map<string, { spans: SpanDict[]; resource: Record<string, unknown> | undefined }>();
    for (const { traceIdHex, span, resource } of incoming) {
      const traceId = `tr-${traceIdHex}`;
      const group = groups.get(traceId) ?? { spans: [], resource: undefined };
      const own = withServiceName({ ...span, attributes: { ...span.attributes, [SpanKeys.requestId]: pyJsonDumps(traceId) } }, resource ?? {});
      group.spans.push(translateSpan(own));
      if (group.resource === undefined && resource && Object.keys(resource).length > 0) group.resource = resource;
      groups.set(traceId, group);
    }
    let exp: { id: number; location: string } | undefined;
    const experiment = (): { id: number; location: string } => (exp ??= this.ingestExperiment(experimentId));
    for (const [traceId, { spans, resource }] of groups) {
      const summaries = spans.map(summarizeSpan);
      const payload = Buffer.from(spans.map((s) => JSON.stringify(s)).join('\n') + '\n');
      let at = this.ingestTarget(traceId, experiment);
      await this.artifacts.appendDurably(`${at.dir}/${OTLP_SPANS_FILE}`, payload);
      // Read the trace again after the await: its StartTraceV3 (or another batch of its spans)
      // may have landed meanwhile. From here to write() nothing yields, so the op is computed
      // against exactly the state it is applied to (a finalized trace keeps the client's info).
      let now = this.ingestTarget(traceId, experiment);
      while (now.dir !== at.dir) {
        at = now;
        await this.artifacts.appendDurably(`${at.dir}/${OTLP_SPANS_FILE}`, payload);
        now = this.ingestTarget(traceId, experiment);
      }
      const { existing, expId, newLocation } = now;
      const op = planIngest(traceId, expId, spans.map((span, i) => ({ span, summary: summaries[i]! })), resource, this.soFar(existing?.id), journalSpan);
      if (newLocation !== undefined) op.tags.unshift([TraceKeys.artifactLocation, newLocation]);
      op.tags.push([TraceKeys.spansLocation, SPANS_IN_TRACKING_STORE]);
      await this.write(op, traceId, expId);
    }
    return { traces: groups.size, spans: incoming.length };
  }

  /** The experiment new OTLP traces go to: MLflow checks only that it exists (any lifecycle stage). */
  private ingestExperiment(experimentId: string): { id: number; location: string } {
    if (!/^\d+$/.test(experimentId)) throw invalidParameter(`Invalid experiment ID '${experimentId}'. Experiment ID must be a valid integer.`);
    const id = Number(experimentId);
    const row = Number.isSafeInteger(id) ? this.core.db.get<{ artifact_location: string }>('SELECT artifact_location FROM experiments WHERE experiment_id = ?', [id]) : undefined;
    if (!row) throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    return { id, location: row.artifact_location };
  }

  /** What planIngest needs to know of a stored trace. */
  private soFar(trace: number | undefined): TraceSoFar {
    if (trace === undefined) {
      return { exists: false, finalized: false, hasRequestPreview: false, hasResponsePreview: false, hasSession: false, hasUser: false, tokenUsage: undefined, storedUsage: [] };
    }
    const row = this.core.db.get<{ request_time: number; execution_ms: number | null; state: TraceState; request_preview: string | null; response_preview: string | null }>(
      'SELECT request_time, execution_ms, state, request_preview, response_preview FROM traces WHERE id = ?',
      [trace],
    )!;
    const usage = new Map(
      this.core.db
        .all<{ span_id: string; value: string }>('SELECT span_id, value FROM trace_span_attrs WHERE trace = ? AND key = ?', [trace, SpanKeys.chatTokenUsage])
        .map((r) => [r.span_id, storedUsage(r.value)]),
    );
    const storedNodes = this.core.db
      .all<{ span_id: string; parent_id: string | null }>('SELECT span_id, parent_id FROM trace_spans WHERE trace = ?', [trace])
      .map((r) => ({ spanId: r.span_id, parentId: r.parent_id, usage: usage.get(r.span_id) }));
    return {
      exists: true,
      finalized: this.metadataValue(trace, TraceKeys.infoFinalized) === 'true',
      requestTime: row.request_time,
      executionMs: row.execution_ms,
      state: row.state,
      hasRequestPreview: row.request_preview !== null,
      hasResponsePreview: row.response_preview !== null,
      hasSession: this.metadataValue(trace, TraceKeys.session) !== undefined,
      hasUser: this.metadataValue(trace, TraceKeys.user) !== undefined,
      tokenUsage: storedUsage(this.metadataValue(trace, TraceKeys.tokenUsage)),
      storedUsage: storedNodes,
    };
  }

  /**
   * Where OTLP spans of a trace go: its own folder if it exists, else the one its experiment gives
   * it (`newLocation`, the location tag the new trace will carry).
   */
  private ingestTarget(traceId: string, experiment: () => { id: number; location: string }) {
    const existing = this.core.db.get<{ id: number; experiment_id: number }>('SELECT id, experiment_id FROM traces WHERE trace_id = ?', [traceId]);
    if (existing) return { existing, expId: existing.experiment_id, newLocation: undefined, dir: this.payloadDir({ ...existing, trace_id: traceId }) };
    const exp = experiment();
    const newLocation = newTraceLocation(exp.location, traceId);
    return { existing, expId: exp.id, newLocation, dir: traceDir(newLocation, exp.id, traceId) };
  }

  /** The span index of a trace, in start order (cheap: no payload is read). */
  async spanSummaries(traceId: string): Promise<SpanSummary[]> {
    const row = this.row(traceId);
    const attrs = new Map<string, [string, string][]>();
    for (const a of this.core.db.all<{ span_id: string; key: string; value: string }>('SELECT span_id, key, value FROM trace_span_attrs WHERE trace = ? AND key != ?', [row.id, TEXT_BLOOM_KEY])) {
      const list = attrs.get(a.span_id) ?? [];
      list.push([a.key, a.value]);
      attrs.set(a.span_id, list);
    }
    return this.core.db
      .all<{ span_id: string; parent_id: string | null; name: string; type: string; status: SpanSummary['status']; start_us: number; end_us: number | null }>(
        'SELECT span_id, parent_id, name, type, status, start_us, end_us FROM trace_spans WHERE trace = ? ORDER BY start_us, span_id',
        [row.id],
      )
      .map((r) => ({ spanId: r.span_id, parentId: r.parent_id, name: r.name, type: r.type, status: r.status, startUs: r.start_us, endUs: r.end_us, attributes: attrs.get(r.span_id) ?? [] }));
  }

  /** The store path of the trace's payload folder (traces.json, spans.jsonl, attachments/). */
  async payloadPath(traceId: string): Promise<string> {
    return this.payloadDir(this.row(traceId));
  }

  /** Whether the client should read this trace's spans from traces.json or from the server. */
  spansInTrackingStore(traceId: string): boolean {
    return this.tag(this.row(traceId).id, TraceKeys.spansLocation) === SPANS_IN_TRACKING_STORE;
  }

  /** All span payloads of one trace (for the viewer and batchGet); see readSpansNoting. */
  async readSpans(traceId: string): Promise<SpanDict[]> {
    return this.spansNoting(traceId).spans;
  }

  /**
   * All span payloads of one trace: traces.json, then OTLP spans. A payload that cannot be read
   * (damaged, nested too deep, a span of the wrong shape) is left out with a note in `errors`, so
   * one bad file never fails a read of its trace, nor of a batch or search it is part of.
   */
  async readSpansNoting(traceId: string): Promise<{ spans: SpanDict[]; errors: string[] }> {
    return this.spansNoting(traceId);
  }

  private spansNoting(traceId: string): { spans: SpanDict[]; errors: string[] } {
    const row = this.row(traceId);
    const dir = this.payloadDir(row);
    const byId = new Map<string, SpanDict>();
    const errors: string[] = [];
    const why = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    /** The file's text, or undefined when it is absent or cannot be reached. */
    const readText = (name: string): string | undefined => {
      try {
        const file = this.artifacts.localPath(`${dir}/${name}`);
        return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
      } catch (err) {
        errors.push(`${name} could not be read (${why(err)}).`);
        return undefined;
      }
    };
    const json = readText(TRACE_FILE);
    if (json !== undefined) {
      try {
        const list = (parseJsonBounded(json) as { spans?: unknown } | null)?.spans;
        if (!Array.isArray(list)) throw new Error("it has no 'spans' list");
        list.forEach((s, i) => {
          try {
            const span = checkSpanDict(s, i);
            byId.set(span.span_id, span);
          } catch (err) {
            errors.push(`${TRACE_FILE}: ${(err as Error).message}`);
          }
        });
      } catch (err) {
        errors.push(`${TRACE_FILE} is damaged: ${(err as Error).message}`);
      }
    }
    const jsonl = readText(OTLP_SPANS_FILE);
    if (jsonl !== undefined) {
      const lines = jsonl.split('\n');
      let bad = 0;
      lines.forEach((line, i) => {
        if (line === '') return;
        try {
          const span = checkSpanDict(parseJsonBounded(line), i);
          byId.set(span.span_id, span);
        } catch {
          // A torn final line is a crash mid-append: that request was never acknowledged.
          if (i !== lines.length - 1) bad++;
        }
      });
      if (bad > 0) errors.push(`${bad} span(s) in ${OTLP_SPANS_FILE} could not be read.`);
    }
    // Start order, as MLflow's SQL store returns spans (OTLP delivers children before parents).
    const start = (s: SpanDict): bigint => {
      const v = s.start_time_unix_nano;
      return typeof v === 'number' ? BigInt(Math.round(v)) : /^\d+$/.test(v) ? BigInt(v) : 0n;
    };
    const spans = [...byId.values()].sort((a, b) => {
      const d = start(a) - start(b);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
    return { spans, errors };
  }
}
