/**
 * Traces (MLflow 3): trace info, tags and metadata, links to runs and assessments in sql.js;
 * span payloads in the trace's own folder under the experiment's artifact location:
 *   <exp>/traces/<trace id>/artifacts/traces.json   what the Python client uploads
 *   <exp>/traces/<trace id>/artifacts/spans.jsonl   spans received over OTLP, appended
 * sql.js keeps a one-row-per-span index (name, type, status, times) for search and the tree.
 * This module is the TraceStore: trace info, search and tags here; the rows it reads in
 * traceRows.ts, assessments in traceAssessments.ts, payloads in tracePayloads.ts, OTLP ingest in
 * traceIngest.ts.
 */
import * as fs from 'node:fs';
import type { ArtifactStore } from '../artifacts/artifactStore';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import { MAX_ENTITY_KEY_LENGTH, MAX_TAG_VAL_LENGTH, validateLength } from '../limits';
import { decodePageToken, encodePageToken, pageFromLookahead } from '../search/pageToken';
import { placeholders, type Params } from '../sqlite';
import {
  SEARCH_TRACES_DEFAULT_MAX_RESULTS,
  SEARCH_TRACES_MAX_RESULTS,
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
import { bloomHasAll, likeMatcher, spanContentText } from './spanText';
import { TraceAssessments } from './traceAssessments';
import { TraceIngest } from './traceIngest';
import type { TraceOp } from './traceOps';
import { TracePayloads } from './tracePayloads';
import { queryTraceMetrics } from './traceMetrics';
import { entries, experimentKeys, newTraceLocation, SERVER_TAGS, TRACE_COLUMNS, TraceRows, traceWriter, truncate, type TraceRow, type TraceWrite } from './traceRows';
import { compileTraceFilter, compileTraceOrder } from './traceSearch';
import { TraceKeys, type Assessment, type SessionSummary, type SpanDict, type SpanSummary, type TraceInfo, type TraceState } from '../../domain/traceTypes';

export const MAX_PREVIEW_CHARS = 1000;
export const MAX_LINK_TRACES = 100;

export class Traces implements TraceStore {
  private readonly rows: TraceRows;
  private readonly write: TraceWrite;
  private readonly assessments: TraceAssessments;
  private readonly payloads: TracePayloads;
  private readonly otlp: TraceIngest;

  constructor(
    private readonly core: StoreCore,
    private readonly artifacts: ArtifactStore,
  ) {
    this.rows = new TraceRows(core.db);
    this.write = traceWriter(core);
    this.assessments = new TraceAssessments(core, this.rows, this.write);
    this.payloads = new TracePayloads(core, this.rows, artifacts, this.write);
    this.otlp = new TraceIngest(core, this.rows, artifacts, this.write);
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
      return this.payloads.spansNoting(String(traceId)).spans.some((s) => match(spanContentText(s))) ? 1 : 0;
    });
  }

  // ---- trace info -----------------------------------------------------------------------

  /** StartTraceV3: records (or completes) a trace and tells the client where its spans go. */
  async start(req: StartTraceRequest): Promise<TraceInfo> {
    this.rows.checkTraceId(req.traceId);
    const existing = this.core.db.get<{ id: number; experiment_id: number }>('SELECT id, experiment_id FROM traces WHERE trace_id = ?', [req.traceId]);
    // As MLflow's SQL store: the experiment named by the call must be active, and a trace id that
    // already exists elsewhere (seeded random ids repeat across scripts) moves to it.
    const exp = this.rows.activeExperiment(req.experimentId);
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.tags)) {
      if (SERVER_TAGS.has(k)) continue;
      validateLength('trace tag key', k, MAX_ENTITY_KEY_LENGTH);
      tags[k] = truncate(v, MAX_TAG_VAL_LENGTH)!;
    }
    if (!existing) tags[TraceKeys.artifactLocation] = newTraceLocation(exp.location, req.traceId);
    const now = new Date().toISOString();
    const assessments = req.assessments.map((a) => this.assessments.complete(req.traceId, a, now));
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
    const row = this.rows.row(traceId);
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
    return this.rows.load([this.rows.row(traceId)])[0]!;
  }

  /** Trace infos for ids that exist, in the order asked; unknown ids are skipped. */
  async getMany(traceIds: string[]): Promise<TraceInfo[]> {
    if (traceIds.length === 0) return [];
    const rows = this.core.db.all<TraceRow>(`SELECT ${TRACE_COLUMNS} FROM traces t WHERE t.trace_id IN (${placeholders(traceIds.length)})`, traceIds);
    const order = new Map(traceIds.map((id, i) => [id, i]));
    rows.sort((a, b) => order.get(a.trace_id)! - order.get(b.trace_id)!);
    return this.rows.load(rows);
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
    const page = pageFromLookahead(rows, limit, offset, (r) => this.rows.load(r));
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
    const exp = this.rows.activeExperiment(req.experimentId);
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
      const dir = this.rows.payloadDir({ ...r, experiment_id: exp.id });
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
    const row = this.rows.row(traceId);
    if (key === '') throw invalidParameter("Missing value for required parameter 'key'.");
    this.checkUserTag(key);
    validateLength('trace tag key', key, MAX_ENTITY_KEY_LENGTH);
    await this.write({ t: 'tr.setTag', id: traceId, key, value: truncate(value, MAX_TAG_VAL_LENGTH)! }, traceId, row.experiment_id);
  }

  async deleteTag(traceId: string, key: string): Promise<void> {
    const row = this.rows.row(traceId);
    this.checkUserTag(key);
    if (this.rows.tag(row.id, key) === undefined) throw doesNotExist(`No trace tag with key '${key}' for trace with ID '${traceId}'`);
    await this.write({ t: 'tr.deleteTag', id: traceId, key }, traceId, row.experiment_id);
  }

  async linkToRun(traceIds: string[], runId: string): Promise<void> {
    if (traceIds.length === 0) return;
    if (traceIds.length > MAX_LINK_TRACES) throw invalidParameter(`Cannot link more than ${MAX_LINK_TRACES} traces to a run in a single request. Provided ${traceIds.length} traces.`);
    // As MLflow's server, neither the run nor the traces are looked up: a trace still being
    // exported (no info yet) is linked when it arrives (trace_pending_runs).
    const known = traceIds.find((id) => this.core.db.value('SELECT 1 FROM traces WHERE trace_id = ?', [id]) !== undefined);
    const op: TraceOp = { t: 'tr.link', ids: traceIds, runId };
    if (known) await this.write(op, known, this.rows.row(known).experiment_id);
    else await this.core.write(op);
  }

  // ---- assessments ----------------------------------------------------------------------

  async createAssessment(traceId: string, input: NewAssessment): Promise<Assessment> {
    return this.assessments.create(traceId, input);
  }

  async getAssessment(traceId: string, assessmentId: string): Promise<Assessment> {
    return this.assessments.get(traceId, assessmentId);
  }

  async updateAssessment(traceId: string, assessmentId: string, patch: Partial<Assessment>, fields: AssessmentField[]): Promise<Assessment> {
    return this.assessments.update(traceId, assessmentId, patch, fields);
  }

  async deleteAssessment(traceId: string, assessmentId: string): Promise<void> {
    return this.assessments.delete(traceId, assessmentId);
  }

  // ---- spans ----------------------------------------------------------------------------

  async traceForUpload(artifactPath: string): Promise<string | undefined> {
    return this.payloads.traceForUpload(artifactPath);
  }

  async acceptTracesJson(traceId: string, body: Buffer): Promise<void> {
    return this.payloads.acceptTracesJson(traceId, body);
  }

  async ingest(experimentId: string, incoming: IncomingSpan[]): Promise<{ traces: number; spans: number }> {
    return this.otlp.ingest(experimentId, incoming);
  }

  async spanSummaries(traceId: string): Promise<SpanSummary[]> {
    return this.payloads.spanSummaries(traceId);
  }

  /** The store path of the trace's payload folder (traces.json, spans.jsonl, attachments/). */
  async payloadPath(traceId: string): Promise<string> {
    return this.rows.payloadDir(this.rows.row(traceId));
  }

  /** Whether the client should read this trace's spans from traces.json or from the server. */
  spansInTrackingStore(traceId: string): boolean {
    return this.payloads.spansInTrackingStore(traceId);
  }

  /** All span payloads of one trace (for the viewer and batchGet); see readSpansNoting. */
  async readSpans(traceId: string): Promise<SpanDict[]> {
    return this.payloads.spansNoting(traceId).spans;
  }

  /**
   * All span payloads of one trace: traces.json, then OTLP spans. A payload that cannot be read
   * (damaged, nested too deep, a span of the wrong shape) is left out with a note in `errors`, so
   * one bad file never fails a read of its trace, nor of a batch or search it is part of.
   */
  async readSpansNoting(traceId: string): Promise<{ spans: SpanDict[]; errors: string[] }> {
    return this.payloads.spansNoting(traceId);
  }
}
