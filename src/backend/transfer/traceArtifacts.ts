/**
 * Spans a client uploaded as the trace's `traces.json` artifact (`{"spans": [...]}`, MLflow 2's
 * span dicts or 3's), read as the v3 span dicts Runlens keeps. Both stores fall back to it: the
 * file store always, `mlflow.db` for traces whose spans are not in its `spans` table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkSpanDict } from '../../store/traces/spanCodec';
import type { SpanDict, TraceState } from '../../domain/traceTypes';

/** The spans in `<dir>/traces.json`; none when the file is absent (never uploaded, or remote). */
export function readTraceArtifactSpans(dir: string | undefined): SpanDict[] {
  if (dir === undefined) return [];
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'traces.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const data = parseSpanJson(text) as { spans?: unknown };
  return Array.isArray(data.spans) ? data.spans.map((s, i) => checkSpanDict(s, i)) : [];
}

/** Span times are nanoseconds past 2^53: kept as their decimal text, which a double would round. */
const NANO_FIELDS = /("(?:start_time_unix_nano|end_time_unix_nano|time_unix_nano|start_time|end_time|timestamp)"\s*:\s*)(\d{16,})(?=\s*[,}])/g;

/** JSON.parse for span JSON, with nanosecond times as exact decimal strings. */
export function parseSpanJson(text: string): unknown {
  return JSON.parse(text.replace(NANO_FIELDS, '$1"$2"'));
}

/** A v2 trace status (`TRACE_STATUS_UNSPECIFIED`, `OK`, …) as the v3 state MLflow 3 maps it to. */
export function traceState(status: string): TraceState {
  if (status === 'OK' || status === 'ERROR' || status === 'IN_PROGRESS') return status;
  return 'STATE_UNSPECIFIED';
}
