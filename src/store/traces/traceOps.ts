/**
 * Journaled mutations of traces, their span index and assessments. As in ops.ts: each op
 * carries every value it needs, callers validate first, and applying never fails half-way.
 * Span payloads are not journaled: they are fsynced to the trace's own files before the op.
 */
import type { KV } from '../opTypes';
import type { SqlDb } from '../sqlite';
import { parseTokenUsage } from '../../domain/spanDict';
import { TraceKeys, type Assessment, type TraceState } from '../../domain/traceTypes';

/** [spanId, parentId, name, type, status, startUs, endUs, indexed attributes] */
export type JournalSpan = [string, string | null, string, string, string, number, number | null, [string, string][]?];

export type TraceOp =
  | {
      t: 'tr.upsert';
      id: string;
      exp: number;
      /** Request time (ms); on an existing trace only an earlier time replaces the stored one. */
      time: number;
      durationMs?: number | null;
      state?: TraceState;
      clientRequestId?: string | null;
      requestPreview?: string | null;
      responsePreview?: string | null;
      metadata: KV[];
      tags: KV[];
      assessments?: Assessment[];
      /** Span index rows that arrived with this info (OTLP). */
      spans?: JournalSpan[];
    }
  | { t: 'tr.spans'; id: string; spans: JournalSpan[] }
  | { t: 'tr.setTag'; id: string; key: string; value: string }
  | { t: 'tr.deleteTag'; id: string; key: string }
  | { t: 'tr.delete'; ids: string[] }
  | { t: 'tr.link'; ids: string[]; runId: string }
  | { t: 'as.put'; trace: string; assessment: Assessment; invalidate?: string }
  | { t: 'as.delete'; id: string };

export function isTraceOp(op: { t: string }): op is TraceOp {
  return op.t.startsWith('tr.') || op.t.startsWith('as.');
}

function traceKey(db: SqlDb, traceId: string): number {
  const id = db.value('SELECT id FROM traces WHERE trace_id = ?', [traceId]);
  if (id === undefined) throw new Error(`journal refers to unknown trace ${traceId}`);
  return Number(id);
}

/** Session, user and token columns mirror metadata, so the list view can sort on them. */
function refreshDerivedColumns(db: SqlDb, trace: number): void {
  const meta = (key: string): string | undefined => {
    const v = db.value('SELECT value FROM trace_metadata WHERE trace = ? AND key = ?', [trace, key]);
    return v === undefined || v === null ? undefined : String(v);
  };
  const usage = parseTokenUsage(meta(TraceKeys.tokenUsage));
  db.run('UPDATE traces SET session_id = ?, user_id = ?, input_tokens = ?, output_tokens = ?, total_tokens = ? WHERE id = ?', [
    meta(TraceKeys.session) ?? null,
    meta(TraceKeys.user) ?? null,
    usage?.input_tokens ?? null,
    usage?.output_tokens ?? null,
    usage?.total_tokens ?? null,
    trace,
  ]);
}

/** An assessment's value as filters compare it: strings bare, anything else as JSON. */
export function assessmentValueText(a: Assessment): string | null {
  const v = a.feedback ? a.feedback.value : a.expectation ? (a.expectation.value ?? a.expectation.serialized_value?.value) : undefined;
  if (v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function putAssessment(db: SqlDb, trace: number, a: Assessment): void {
  // An upsert keeps the rowid, so assessments list in creation order after updates too.
  db.run(
    `INSERT INTO assessments (assessment_id, trace, name, kind, value_text, valid, body) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (assessment_id) DO UPDATE SET name = excluded.name, kind = excluded.kind, value_text = excluded.value_text, valid = excluded.valid, body = excluded.body`,
    [
    a.assessment_id,
    trace,
    a.assessment_name,
    a.expectation ? 'expectation' : 'feedback',
    assessmentValueText(a),
    a.valid ? 1 : 0,
    JSON.stringify(a),
    ],
  );
}

function upsert(db: SqlDb, op: Extract<TraceOp, { t: 'tr.upsert' }>): void {
  const existing = db.value('SELECT id FROM traces WHERE trace_id = ?', [op.id]);
  if (existing === undefined) {
    db.run(
      `INSERT INTO traces (trace_id, experiment_id, request_time, execution_ms, state, client_request_id, request_preview, response_preview)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [op.id, op.exp, op.time, op.durationMs ?? null, op.state ?? 'IN_PROGRESS', op.clientRequestId ?? null, op.requestPreview ?? null, op.responsePreview ?? null],
    );
    const created = traceKey(db, op.id);
    db.run('INSERT OR IGNORE INTO trace_runs (trace, run_id) SELECT ?, run_id FROM trace_pending_runs WHERE trace_id = ?', [created, op.id]);
    db.run('DELETE FROM trace_pending_runs WHERE trace_id = ?', [op.id]);
  } else {
    db.run('UPDATE traces SET request_time = min(request_time, ?) WHERE id = ?', [op.time, existing]);
    const set = (column: string, value: unknown): void => {
      if (value !== undefined) db.run(`UPDATE traces SET ${column} = ? WHERE id = ?`, [value as string | number | null, existing]);
    };
    set('experiment_id', op.exp); // a reused trace id moves to the experiment of its latest start
    set('execution_ms', op.durationMs);
    set('state', op.state);
    set('client_request_id', op.clientRequestId);
    set('request_preview', op.requestPreview);
    set('response_preview', op.responsePreview);
  }
  const trace = traceKey(db, op.id);
  for (const [k, v] of op.metadata) db.run('INSERT OR REPLACE INTO trace_metadata (trace, key, value) VALUES (?, ?, ?)', [trace, k, v]);
  for (const [k, v] of op.tags) db.run('INSERT OR REPLACE INTO trace_tags (trace, key, value) VALUES (?, ?, ?)', [trace, k, v]);
  for (const a of op.assessments ?? []) putAssessment(db, trace, a);
  refreshDerivedColumns(db, trace);
}

function putSpans(db: SqlDb, trace: number, spans: JournalSpan[]): void {
  for (const [spanId, parentId, name, type, status, startUs, endUs, attributes] of spans) {
    db.run('INSERT OR REPLACE INTO trace_spans (trace, span_id, parent_id, name, type, status, start_us, end_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      trace,
      spanId,
      parentId,
      name,
      type,
      status,
      startUs,
      endUs,
    ]);
    if (attributes?.length) {
      db.run('DELETE FROM trace_span_attrs WHERE trace = ? AND span_id = ?', [trace, spanId]);
      for (const [k, v] of attributes) db.run('INSERT OR REPLACE INTO trace_span_attrs (trace, span_id, key, value) VALUES (?, ?, ?, ?)', [trace, spanId, k, v]);
    }
  }
  db.run('UPDATE traces SET span_count = (SELECT count(*) FROM trace_spans WHERE trace = ?) WHERE id = ?', [trace, trace]);
}

export function applyTraceOp(db: SqlDb, op: TraceOp): void {
  switch (op.t) {
    case 'tr.upsert':
      upsert(db, op);
      if (op.spans?.length) putSpans(db, traceKey(db, op.id), op.spans);
      return;
    case 'tr.spans':
      putSpans(db, traceKey(db, op.id), op.spans);
      return;

    case 'tr.setTag':
      db.run('INSERT OR REPLACE INTO trace_tags (trace, key, value) VALUES (?, ?, ?)', [traceKey(db, op.id), op.key, op.value]);
      return;
    case 'tr.deleteTag':
      db.run('DELETE FROM trace_tags WHERE trace = ? AND key = ?', [traceKey(db, op.id), op.key]);
      return;
    case 'tr.delete':
      for (const id of op.ids) {
        const trace = db.value('SELECT id FROM traces WHERE trace_id = ?', [id]);
        if (trace === undefined) continue;
        for (const table of ['trace_tags', 'trace_metadata', 'trace_runs', 'trace_spans', 'trace_span_attrs', 'assessments']) {
          db.run(`DELETE FROM ${table} WHERE trace = ?`, [trace]);
        }
        db.run('DELETE FROM traces WHERE id = ?', [trace]);
      }
      return;
    case 'tr.link':
      for (const id of op.ids) {
        // As MLflow: a trace not created yet (still being exported) is linked once it is.
        const trace = db.value('SELECT id FROM traces WHERE trace_id = ?', [id]);
        if (trace === undefined) db.run('INSERT OR IGNORE INTO trace_pending_runs (trace_id, run_id) VALUES (?, ?)', [id, op.runId]);
        else db.run('INSERT OR IGNORE INTO trace_runs (trace, run_id) VALUES (?, ?)', [trace, op.runId]);
      }
      return;
    case 'as.put':
      putAssessment(db, traceKey(db, op.trace), op.assessment);
      if (op.invalidate) {
        const body = db.value('SELECT body FROM assessments WHERE assessment_id = ?', [op.invalidate]);
        if (body !== undefined) {
          const old = { ...(JSON.parse(String(body)) as Assessment), valid: false };
          db.run('UPDATE assessments SET valid = 0, body = ? WHERE assessment_id = ?', [JSON.stringify(old), op.invalidate]);
        }
      }
      return;
    case 'as.delete':
      db.run('DELETE FROM assessments WHERE assessment_id = ?', [op.id]);
      return;
  }
}
