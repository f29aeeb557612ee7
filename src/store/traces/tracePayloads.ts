/**
 * A trace's span payloads in its folder of the artifact tree: the client's traces.json upload
 * (validated and indexed before it is kept), the span index sql.js holds, and reading payloads
 * back (traces.json, then spans that arrived over OTLP).
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { OTLP_SPANS_FILE, TRACE_FILE } from '../../backend/api/traces';
import { invalidParameter } from '../../domain/errors';
import { parseJsonBounded } from '../../domain/jsonDepth';
import { TraceKeys, type SpanDict, type SpanSummary } from '../../domain/traceTypes';
import type { ArtifactStore } from '../artifacts/artifactStore';
import type { StoreCore } from '../storeCore';
import { checkSpanDict, summarizeSpan } from './spanCodec';
import { TEXT_BLOOM_KEY } from './spanText';
import type { JournalSpan } from './traceOps';
import type { TraceRows, TraceWrite } from './traceRows';

/** The span-location tag value of traces whose spans the server holds (sent over OTLP). */
export const SPANS_IN_TRACKING_STORE = 'TRACKING_STORE';

export function journalSpan(s: SpanSummary): JournalSpan {
  return [s.spanId, s.parentId, s.name, s.type, s.status, s.startUs, s.endUs, s.attributes];
}

export class TracePayloads {
  constructor(
    private readonly core: StoreCore,
    private readonly rows: TraceRows,
    private readonly artifacts: ArtifactStore,
    private readonly write: TraceWrite,
  ) {}

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
      if (row && this.artifacts.canonicalPath(`${this.rows.payloadDir(row)}/${TRACE_FILE}`).toLowerCase() === target.toLowerCase()) return row.trace_id;
    }
    return undefined;
  }

  /** Accepts the client's traces.json upload: validated whole before anything is written. */
  async acceptTracesJson(traceId: string, body: Buffer): Promise<void> {
    const row = this.rows.row(traceId);
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
    await this.artifacts.write(`${this.rows.payloadDir(row)}/${TRACE_FILE}`, Readable.from([body]));
    await this.write({ t: 'tr.spans', id: traceId, spans: summaries.map(journalSpan) }, traceId, row.experiment_id);
  }

  /** The span index of a trace, in start order (cheap: no payload is read). */
  async spanSummaries(traceId: string): Promise<SpanSummary[]> {
    const row = this.rows.row(traceId);
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
    return this.rows.payloadDir(this.rows.row(traceId));
  }

  /** Whether the client should read this trace's spans from traces.json or from the server. */
  spansInTrackingStore(traceId: string): boolean {
    return this.rows.tag(this.rows.row(traceId).id, TraceKeys.spansLocation) === SPANS_IN_TRACKING_STORE;
  }

  /**
   * All span payloads of one trace: traces.json, then OTLP spans. A payload that cannot be read
   * (damaged, nested too deep, a span of the wrong shape) is left out with a note in `errors`, so
   * one bad file never fails a read of its trace, nor of a batch or search it is part of.
   */
  spansNoting(traceId: string): { spans: SpanDict[]; errors: string[] } {
    const row = this.rows.row(traceId);
    const dir = this.rows.payloadDir(row);
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
