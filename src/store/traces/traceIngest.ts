/**
 * Spans received over OTLP, grouped by trace: each translated from its GenAI convention (see
 * otelTranslate.ts), payloads appended to the trace's spans.jsonl (fsynced), then one journaled
 * op per trace with its info and span index (planIngest).
 */
import { OTLP_SPANS_FILE, type IncomingSpan } from '../../backend/api/traces';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import { pyJsonDumps } from '../../domain/pyJson';
import { SpanKeys, TraceKeys, type SpanDict, type TraceState } from '../../domain/traceTypes';
import type { ArtifactStore } from '../artifacts/artifactStore';
import type { StoreCore } from '../storeCore';
import { storedUsage } from './otelTranslate';
import { planIngest, translateSpan, withServiceName, type TraceSoFar } from './otlpIngest';
import { summarizeSpan } from './spanCodec';
import { journalSpan, SPANS_IN_TRACKING_STORE } from './tracePayloads';
import { newTraceLocation, traceDir, type TraceRows, type TraceWrite } from './traceRows';

export class TraceIngest {
  constructor(
    private readonly core: StoreCore,
    private readonly rows: TraceRows,
    private readonly artifacts: ArtifactStore,
    private readonly write: TraceWrite,
  ) {}

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
      finalized: this.rows.metadataValue(trace, TraceKeys.infoFinalized) === 'true',
      requestTime: row.request_time,
      executionMs: row.execution_ms,
      state: row.state,
      hasRequestPreview: row.request_preview !== null,
      hasResponsePreview: row.response_preview !== null,
      hasSession: this.rows.metadataValue(trace, TraceKeys.session) !== undefined,
      hasUser: this.rows.metadataValue(trace, TraceKeys.user) !== undefined,
      tokenUsage: storedUsage(this.rows.metadataValue(trace, TraceKeys.tokenUsage)),
      storedUsage: storedNodes,
    };
  }

  /**
   * Where OTLP spans of a trace go: its own folder if it exists, else the one its experiment gives
   * it (`newLocation`, the location tag the new trace will carry).
   */
  private ingestTarget(traceId: string, experiment: () => { id: number; location: string }) {
    const existing = this.core.db.get<{ id: number; experiment_id: number }>('SELECT id, experiment_id FROM traces WHERE trace_id = ?', [traceId]);
    if (existing) return { existing, expId: existing.experiment_id, newLocation: undefined, dir: this.rows.payloadDir({ ...existing, trace_id: traceId }) };
    const exp = experiment();
    const newLocation = newTraceLocation(exp.location, traceId);
    return { existing, expId: exp.id, newLocation, dir: traceDir(newLocation, exp.id, traceId) };
  }
}
