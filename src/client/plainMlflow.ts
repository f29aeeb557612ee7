/**
 * What the views read from a server without Runlens' own routes (a plain `mlflow server`), over
 * MLflow's REST API, answered in the shapes the Runlens routes answer, so a view cannot tell:
 * - a chart series: the run's history (`metrics/get-history`, paged) streamed into the sketch of
 *   the downsampling a Runlens server does, with the same bucket count (PlainSeries);
 * - a trace with its spans: as the mlflow client's `get_trace` reads it (tracing/client.py):
 *   the v3 info, then spans from the tracking store (`traces/get`, or `traces/batchGet` on a server
 *   that takes "get" for a trace id) in OTel proto JSON, converted to the span dicts Runlens
 *   stores; otherwise `traces.json` from the trace's artifact location;
 * - trace counts and sessions: by paging `traces/search`;
 * - on a 2.x server (no 3.0 trace routes): searches and infos from its 2.0 routes, spans from
 *   traces.json in the 2.x span dict shape, all read as v3's.
 */
import { proxyPath } from '../domain/artifactUri';
import { otelField, otelJsonKeyValues, spanAttributesOf } from '../domain/otelJson';
import { PyFloat, pyJsonDumps } from '../domain/pyJson';
import { SeriesSketch, type SeriesAxis } from '../domain/seriesDownsample';
import { parseTokenUsage } from '../domain/spanDict';
import { SpanKeys, TraceKeys, type SessionSummary, type SpanDict, type TraceInfo } from '../domain/traceTypes';
import { fromV2SpanDict, isV2SpanDict, traceInfoFromV2 } from '../domain/traceV2';
import { TrackingApiError } from './trackingApiError';
import type { WireChartSeries } from './wireTypes';

/** The REST calls these readers make (TrackingClient has them; typed here so the two files do not import each other). */
export interface MlflowRest {
  request<T>(method: 'GET' | 'POST', route: string, body?: Record<string, unknown>): Promise<T>;
  /** A GET whose top-level lists' items go to `onItem` as they arrive, never held; resolves with the rest. */
  requestItems<T>(route: string, query: Record<string, unknown>, onItem: (item: unknown) => void): Promise<T>;
  searchTraces(q: { experimentIds: string[]; filter?: string; maxResults?: number; pageToken?: string }): Promise<{ traces: TraceInfo[]; nextPageToken?: string }>;
}

/**
 * Points per get-history page. Always sent: MLflow 3.6's handler reads a missing max_results as 0
 * (an empty page with a token); 2.x ignores it and answers the whole history at once.
 */
export const HISTORY_PAGE = 25_000;
/** Runs whose histories are read at once for one multi-run chart. */
const BULK_AHEAD = 4;
/** `traces/search` page size (MLflow's largest). */
const TRACE_PAGE = 500;
/** Traces counted or grouped into sessions at most (20 pages). */
export const TRACE_SCAN_CAP = 10_000;

interface HistoryMetric {
  value: number | string;
  timestamp?: number | string;
  step?: number | string;
}

/** `n` items through `fn`, at most `limit` at a time, answered in input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Points read of one series at most. Memory does not grow with it (a read keeps the sketch and
 * the piece of the answer arriving); time does (~200 history pages). A series past it is charted from its first points in
 * the server's order (by time) and says so (`first_points`).
 */
export const SERIES_POINT_CAP = 5_000_000;
/**
 * Chart buckets of the series reads kept for redraws and resumed reads (a sketch holds about five
 * small objects a bucket): some 50 charts of 1,000 buckets, a few MB.
 */
const KEPT_BUCKETS = 50_000;

/** Thrown when the part of a history read before is not there as it was: read it all again. */
class Reshaped extends Error {}
/** Thrown to stop reading at the cap. */
class Capped extends Error {}

/** A running hash of points as the server answered them (their exact doubles), to know a page again. */
class PointsHash {
  private static readonly f = new Float64Array(1);
  private static readonly u = new Uint32Array(PointsHash.f.buffer);
  a = 0x811c9dc5;
  b = 0x9e3779b9;

  add(m: HistoryMetric): void {
    for (const v of [Number(m.step ?? 0), Number(m.timestamp ?? 0), Number(m.value)]) {
      PointsHash.f[0] = v;
      for (const w of PointsHash.u) {
        this.a = Math.imul(this.a ^ w, 0x01000193) >>> 0;
        this.b = Math.imul(this.b ^ w, 0x85ebca6b) >>> 0;
        this.b = (this.b ^ (this.b >>> 13)) >>> 0;
      }
    }
  }
}

/** Where a series' history was left: its last page (the token that asked for it), what came before it, and a hash of it. */
interface Tail {
  token: string | undefined;
  before: number;
  length: number;
  a: number;
  b: number;
}

/** One series read from a plain server: a sketch of what was read (never the points) and where to go on. */
interface SeriesRead {
  sketch: SeriesSketch;
  axis: SeriesAxis;
  read: number;
  /** The history has more than SERIES_POINT_CAP points; the rest was not read. */
  capped: boolean;
  tail: Tail | undefined;
  ended: boolean;
  at: number;
}

/**
 * Reads get-history pages into `s` from where it was left (the start for a new read): the last
 * page again, checked against its hash, then the pages after it. MLflow pages a history by offset
 * in (timestamp, step, value) order, so points logged since come after what was read; anything
 * else (points gone, or logged at an earlier time) changes the last page and is `Reshaped`.
 */
async function readPages(rest: MlflowRest, runId: string, key: string, s: SeriesRead, cap: number): Promise<void> {
  let token = s.tail?.token;
  let before = s.tail?.before ?? 0;
  let known = s.tail;
  const seen = new Set<string>();
  const x = s.axis === 'step' ? (m: HistoryMetric) => Number(m.step ?? 0) : (m: HistoryMetric) => Number(m.timestamp ?? 0);
  for (;;) {
    const hash = new PointsHash();
    let n = 0;
    let checked = !known || known.length === 0;
    let page: { next_page_token?: string } = {};
    try {
      // Point by point as the page arrives: a page (a 2.x server's is the whole history) is never held.
      page = await rest.requestItems<{ next_page_token?: string }>('/api/2.0/mlflow/metrics/get-history', { run_id: runId, metric_key: key, max_results: HISTORY_PAGE, page_token: token }, (item) => {
        const m = item as HistoryMetric;
        if (!checked) {
          hash.add(m);
          if (++n === known!.length) {
            if (hash.a !== known!.a || hash.b !== known!.b) throw new Reshaped();
            checked = true;
          }
          return;
        }
        if (s.read >= cap) {
          s.capped = true;
          throw new Capped();
        }
        hash.add(m);
        s.sketch.add(x(m), Number(m.value)); // "NaN", "Infinity", "-Infinity" as JSON carries them
        s.read++;
        n++;
      });
    } catch (err) {
      if (!(err instanceof Capped)) throw err;
    }
    if (!checked) throw new Reshaped();
    known = undefined;
    s.tail = { token, before, length: n, a: hash.a, b: hash.b };
    // An empty page ends the history whatever token came with it; a repeated token would loop.
    const next = n > 0 && page.next_page_token && !seen.has(page.next_page_token) ? page.next_page_token : undefined;
    if (s.capped || !next) return;
    seen.add(next);
    before += n;
    token = next;
  }
}

const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);

interface RunOfSeries {
  run?: { info?: { status?: string }; data?: { metrics?: (HistoryMetric & { key?: string })[] } };
}

/**
 * Where the sketch can expect a history to end: the run's latest value of the key is its last
 * step (and, in most runs, its last time); the start is the lowest x of the first page, which
 * comes in time order. A guess: the sketch checks it against the points.
 */
function lastX(latest: (HistoryMetric & { key?: string })[] | undefined, key: string, axis: SeriesAxis): { hi?: number } {
  const m = latest?.find((l) => l.key === key);
  return m ? { hi: Number(axis === 'step' ? (m.step ?? 0) : (m.timestamp ?? 0)) } : {};
}

function wireOf(s: SeriesRead): WireChartSeries {
  const r = s.sketch.result();
  return { total_points: r.total, downsampled: r.downsampled, points: r.points, ...(s.capped ? { first_points: s.read } : {}) };
}

/**
 * Chart series of a plain server's histories, per client. A series is read page by page into a
 * sketch (seriesDownsample.ts), so memory holds one page and O(buckets) whatever the history's
 * length. The sketch is kept, and a later read of the same chart (a live run's, on each change)
 * goes on from the history's last page instead of reading it all again: the whole history only
 * when what was read is no longer there as it was. An ended run's chart is answered from its
 * sketch for `ttlMs` without asking the server; a capped one is not read again.
 *
 * Not from `get-history-bulk-interval`: it answers a sample of the points (MLflow 3.6 and 2.x
 * every n-th step, the newest every n-th row; at most 2,500, no min/max), which loses a spike
 * between samples; and before it samples, 2.x and 3.6 load the run's whole history into the
 * server's memory on every call.
 */
export class PlainSeries {
  private readonly reads = new Map<string, SeriesRead>();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly cap = SERIES_POINT_CAP,
    private readonly keptBuckets = KEPT_BUCKETS,
  ) {}

  /** The chart series `/runlens/api/metric-series` answers, from the run's history. */
  series(rest: MlflowRest, runId: string, key: string, axis: SeriesAxis, buckets: number, now: () => number = Date.now): Promise<WireChartSeries> {
    const id = JSON.stringify([runId, key, axis, buckets]);
    // One read of a series at a time: a second goes on from where the first left it.
    const p = (this.running.get(id) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.readSeries(rest, id, runId, key, axis, buckets, now));
    this.running.set(id, p);
    const done = (): void => {
      if (this.running.get(id) === p) this.running.delete(id);
    };
    p.then(done, done);
    return p;
  }

  private async readSeries(rest: MlflowRest, id: string, runId: string, key: string, axis: SeriesAxis, buckets: number, now: () => number): Promise<WireChartSeries> {
    const kept = this.reads.get(id);
    if (kept && kept.ended && now() - kept.at <= this.ttlMs) return wireOf(kept);
    // The status first: a run ending during the read is not taken as ended with half its history.
    const run = (await rest.request<RunOfSeries>('GET', '/api/2.0/mlflow/runs/get', { run_id: runId })).run;
    const status = run?.info?.status;
    let s = kept;
    // A history of one page is read again whole (the same request), so its chart stays exact.
    if (s && !s.capped && s.tail && s.tail.before > 0) {
      try {
        await readPages(rest, runId, key, s, this.cap);
      } catch (err) {
        // A read that failed half way has part of a page in its sketch: next time, all again.
        this.reads.delete(id);
        if (!(err instanceof Reshaped)) throw err;
        s = undefined;
      }
    } else if (!s?.capped) s = undefined;
    if (!s) {
      s = { sketch: new SeriesSketch(buckets, lastX(run?.data?.metrics, key, axis)), axis, read: 0, capped: false, tail: undefined, ended: false, at: 0 };
      await readPages(rest, runId, key, s, this.cap);
    }
    s.ended = status !== undefined && TERMINAL.has(status);
    s.at = now();
    this.reads.delete(id);
    this.reads.set(id, s);
    // Oldest first out (a Map iterates in insertion order); the newest stays whatever its size.
    let keptBuckets = 0;
    for (const r of this.reads.values()) keptBuckets += r.sketch.buckets;
    for (const [old, r] of this.reads) {
      if (keptBuckets <= this.keptBuckets || old === id) break;
      this.reads.delete(old);
      keptBuckets -= r.sketch.buckets;
    }
    return wireOf(s);
  }
}

/** `/runlens/api/metric-series-bulk`'s answer: a few runs' histories read at a time. */
export function historySeriesBulk(
  rest: MlflowRest,
  series: PlainSeries,
  runIds: string[],
  key: string,
  axis: SeriesAxis,
  buckets: number,
): Promise<(WireChartSeries & { run_id: string })[]> {
  return mapLimit(runIds, BULK_AHEAD, async (runId) => ({ run_id: runId, ...(await series.series(rest, runId, key, axis, buckets)) }));
}

// ---- traces ---------------------------------------------------------------------------------

const TRACES = '/api/3.0/mlflow/traces';
/** MLflow 2.x's trace routes (2.14 to 2.22). */
const TRACES_V2 = '/api/2.0/mlflow/traces';
/** `SpansLocation` values whose spans the tracking store serves (the client then calls the store). */
const SPANS_IN_STORE = new Set(['TRACKING_STORE', 'ARCHIVE_REPO']);
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

type Json = Record<string, unknown>;

function time(v: unknown): number | string | undefined {
  return typeof v === 'number' || (typeof v === 'string' && v !== '') ? v : undefined;
}

/** A decoded event attribute as Python holds it (a whole double is still the number). */
function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/**
 * One OTel proto JSON span (`Span.to_otel_proto`, ids base64 as protobuf JSON writes bytes) as
 * the span dict `Span.from_otel_proto(...).to_dict()` gives: attribute values JSON-encoded again,
 * the MLflow trace id in `mlflow.traceRequestId`, the status code by name.
 */
export function otelSpanToDict(o: Json, traceId: string): SpanDict {
  const attributes = spanAttributesOf(otelJsonKeyValues(o.attributes));
  if (attributes[SpanKeys.requestId] === undefined) attributes[SpanKeys.requestId] = pyJsonDumps(traceId);
  const status = (o.status ?? {}) as Json;
  const code = status.code;
  const parent = otelField(o, 'parentSpanId', 'parent_span_id');
  const end = time(otelField(o, 'endTimeUnixNano', 'end_time_unix_nano'));
  const events = Array.isArray(o.events) ? (o.events as Json[]) : [];
  return {
    trace_id: String(otelField(o, 'traceId', 'trace_id') ?? ''),
    span_id: String(otelField(o, 'spanId', 'span_id') ?? ''),
    parent_span_id: typeof parent === 'string' && parent !== '' ? parent : null,
    name: String(o.name ?? ''),
    start_time_unix_nano: time(otelField(o, 'startTimeUnixNano', 'start_time_unix_nano')) ?? 0,
    end_time_unix_nano: end ?? null,
    attributes,
    status: {
      code: typeof code === 'number' ? (STATUS_NAMES[code] ?? 'STATUS_CODE_UNSET') : typeof code === 'string' && code ? code : 'STATUS_CODE_UNSET',
      message: typeof status.message === 'string' ? status.message : '',
    },
    events: events.map((e) => ({
      name: String(e.name ?? ''),
      time_unix_nano: time(otelField(e, 'timeUnixNano', 'time_unix_nano')) ?? 0,
      attributes: Object.fromEntries(otelJsonKeyValues(e.attributes).map(([k, v]) => [k, plain(v)])),
    })),
  };
}

function otelSpans(spans: unknown, traceId: string): SpanDict[] {
  if (spans !== undefined && !Array.isArray(spans)) throw new TrackingApiError('BAD_RESPONSE', `trace ${traceId}: the server's trace has no span list`, 200);
  return ((spans ?? []) as Json[]).map((s) => otelSpanToDict(s, traceId));
}

/** The `spans` of a traces.json body (span dicts as the client wrote them; a 2.x client's read as v3's). */
function traceFileSpans(body: unknown, traceId: string): SpanDict[] {
  const spans = (body as { spans?: unknown } | null)?.spans;
  if (!Array.isArray(spans)) throw new TrackingApiError('BAD_RESPONSE', `trace ${traceId}: the trace data has no 'spans' list`, 200);
  try {
    return (spans as Record<string, unknown>[]).map((s, i) => (s && typeof s === 'object' && isV2SpanDict(s) ? (fromV2SpanDict(s, `spans[${i}]`) as unknown as SpanDict) : (s as unknown as SpanDict)));
  } catch (err) {
    throw new TrackingApiError('BAD_RESPONSE', `trace ${traceId}: ${(err as Error).message}`, 200);
  }
}

async function storeSpans(rest: MlflowRest, traceId: string): Promise<SpanDict[]> {
  try {
    const r = await rest.request<{ trace?: { spans?: unknown } }>('GET', `${TRACES}/get`, { trace_id: traceId });
    return otelSpans(r.trace?.spans, traceId);
  } catch (err) {
    // The client's own test: a server before GetTrace matches `traces/{trace_id}` with "get".
    const older = err instanceof TrackingApiError && (err.routeMissing || (err.errorCode === 'RESOURCE_DOES_NOT_EXIST' && err.message.includes("'get'")));
    if (!older) throw err;
  }
  const r = await rest.request<{ traces?: { spans?: unknown }[] }>('GET', `${TRACES}/batchGet`, { trace_ids: [traceId] });
  const trace = r.traces?.[0];
  if (!trace) throw new TrackingApiError('RESOURCE_DOES_NOT_EXIST', `Trace with ID ${traceId} is not found.`, 404);
  return otelSpans(trace.spans, traceId);
}

async function spansOf(rest: MlflowRest, info: TraceInfo): Promise<SpanDict[]> {
  const tags = info.tags ?? {};
  if (SPANS_IN_STORE.has(tags[TraceKeys.spansLocation] ?? '')) return storeSpans(rest, info.trace_id);
  // traces.json in the trace's artifact location: through the artifact proxy as the client
  // reads an mlflow-artifacts: location; any other location only the server can read, with the
  // route MLflow's own UI loads a trace by.
  const proxied = proxyPath(tags[TraceKeys.artifactLocation] ?? '');
  const body =
    proxied !== undefined
      ? await rest.request<unknown>('GET', `/api/2.0/mlflow-artifacts/artifacts/${[...proxied.split('/'), 'traces.json'].map(encodeURIComponent).join('/')}`)
      : await rest.request<unknown>('GET', '/ajax-api/2.0/mlflow/get-trace-artifact', { request_id: info.trace_id });
  return traceFileSpans(body, info.trace_id);
}

/** A trace's info: MLflow 3's, or on a 2.x server (no 3.0 routes) its 2.0 info read as v3's. */
async function traceInfo(rest: MlflowRest, traceId: string): Promise<TraceInfo | undefined> {
  try {
    return (await rest.request<{ trace?: { trace_info?: TraceInfo } }>('GET', `${TRACES}/${encodeURIComponent(traceId)}`)).trace?.trace_info;
  } catch (err) {
    if (!(err instanceof TrackingApiError && err.routeMissing)) throw err;
  }
  const v2 = (await rest.request<{ trace_info?: unknown }>('GET', `${TRACES_V2}/${encodeURIComponent(traceId)}/info`)).trace_info;
  return v2 === undefined ? undefined : traceInfoFromV2(v2);
}

/**
 * `traces/search` of a 2.x server (`GET /api/2.0/mlflow/traces`, as the 2.x client's
 * search_traces): the same query, infos read as v3's (2.x has no assessments).
 */
export async function searchTracesV2(
  rest: MlflowRest,
  q: { experimentIds: string[]; filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string },
): Promise<{ traces: TraceInfo[]; nextPageToken?: string }> {
  const r = await rest.request<{ traces?: unknown[]; next_page_token?: string }>('GET', TRACES_V2, {
    experiment_ids: q.experimentIds,
    filter: q.filter || undefined,
    order_by: q.orderBy?.length ? q.orderBy : undefined,
    max_results: q.maxResults ?? 100,
    page_token: q.pageToken,
  });
  return { traces: (r.traces ?? []).map(traceInfoFromV2), ...(r.next_page_token ? { nextPageToken: r.next_page_token } : {}) };
}

/** `/runlens/api/trace`'s answer: the trace's info and spans; spans that cannot be read become `spans_error`. */
export async function traceWithSpans(rest: MlflowRest, traceId: string): Promise<{ trace_info: TraceInfo; spans: SpanDict[]; spans_error?: string }> {
  const info = await traceInfo(rest, traceId);
  if (!info) throw new TrackingApiError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${traceId}' not found.`, 404);
  try {
    return { trace_info: info, spans: await spansOf(rest, info) };
  } catch (err) {
    // Signed out or unreachable is the server's problem, not the trace's.
    if (!(err instanceof TrackingApiError) || err.status === 0 || err.status === 401 || err.status === 403) throw err;
    return { trace_info: info, spans: [], spans_error: `The server did not give this trace's spans: ${err.message}` };
  }
}

/** Every trace info the search matches, page by page, up to `cap`. */
async function scanTraces(rest: MlflowRest, experimentIds: string[], filter: string | undefined, cap: number, each: (info: TraceInfo) => void): Promise<number> {
  let seen = 0;
  let token: string | undefined;
  do {
    const page = await rest.searchTraces({ experimentIds, ...(filter ? { filter } : {}), maxResults: Math.min(TRACE_PAGE, cap - seen), ...(token ? { pageToken: token } : {}) });
    for (const info of page.traces) {
      if (seen >= cap) break;
      each(info);
      seen++;
    }
    token = page.traces.length > 0 ? page.nextPageToken : undefined;
  } while (token && seen < cap);
  return seen;
}

/** `/runlens/api/trace-count`'s answer, counted by paging the search: exact up to `cap`, else `cap` and `capped`. */
export async function countTraces(rest: MlflowRest, experimentId: string, filter?: string, cap = TRACE_SCAN_CAP): Promise<{ count: number; capped: boolean }> {
  const n = await scanTraces(rest, [experimentId], filter, cap + 1, () => undefined);
  return { count: Math.min(n, cap), capped: n > cap };
}

function durationMs(d: string | undefined): number {
  const n = d ? Number(d.replace(/s$/, '')) : NaN;
  return Number.isFinite(n) ? Math.round(n * 1000) : 0;
}

/**
 * Traces grouped by session id (metadata `mlflow.trace.session`), newest activity first, as the
 * Runlens store groups them: first request, last request end, summed tokens, errors, the
 * greatest user id.
 */
export function sessionsOf(infos: Iterable<TraceInfo>, limit: number): SessionSummary[] {
  const by = new Map<string, SessionSummary>();
  for (const info of infos) {
    const meta = info.trace_metadata ?? {};
    const id = meta[TraceKeys.session];
    if (id === undefined) continue;
    const start = Date.parse(info.request_time) || 0;
    const end = start + durationMs(info.execution_duration);
    const user = meta[TraceKeys.user] ?? null;
    const tokens = parseTokenUsage(meta[TraceKeys.tokenUsage])?.total_tokens ?? 0;
    const s = by.get(id);
    if (!s) {
      by.set(id, { sessionId: id, traces: 1, firstTime: start, lastTime: end, totalTokens: tokens, errors: info.state === 'ERROR' ? 1 : 0, userId: user });
      continue;
    }
    s.traces++;
    s.firstTime = Math.min(s.firstTime, start);
    s.lastTime = Math.max(s.lastTime, end);
    s.totalTokens += tokens;
    if (info.state === 'ERROR') s.errors++;
    if (user !== null && (s.userId === null || user > s.userId)) s.userId = user;
  }
  return [...by.values()].sort((a, b) => b.lastTime - a.lastTime).slice(0, limit);
}

/** `/runlens/api/trace-sessions`' answer, from up to `cap` traces of the experiments. */
export async function traceSessions(rest: MlflowRest, experimentIds: string[], limit = 1000, cap = TRACE_SCAN_CAP): Promise<SessionSummary[]> {
  const infos: TraceInfo[] = [];
  await scanTraces(rest, experimentIds, undefined, cap, (info) => infos.push(info));
  return sessionsOf(infos, limit);
}
