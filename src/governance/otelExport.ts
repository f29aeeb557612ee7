/**
 * Governance operations as OpenTelemetry spans and metrics, sent over OTLP/HTTP (protobuf) to
 * OTEL_EXPORTER_OTLP_ENDPOINT with the official JS SDK. Spans are batched by the SDK's batch
 * processor and metrics by its periodic reader, so a client's write never waits on the collector.
 */
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { base64ToHex, spanIdHex } from '../domain/spanDict';
import type { SpanDict } from '../domain/traceTypes';
import { attributeTag, ATTRIBUTES, type Attribution } from './attribution';
import type { AuditEntry } from './auditLog';
import type { IngestedSpans, OperationSink } from './governance';
import { fromNano } from './pricing';


export interface OtelOptions {
  /** Base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT): `/v1/traces` and `/v1/metrics` are appended. */
  endpoint: string;
  headers?: Record<string, string> | undefined;
  serviceName?: string | undefined;
  /** How often metrics are pushed (ms). */
  metricIntervalMs?: number | undefined;
}

/** OTEL_EXPORTER_OTLP_HEADERS: `k=v,k2=v2` (values URL-encoded), as the OpenTelemetry spec writes it. */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** Span-dict nanoseconds (a number or digits) → OpenTelemetry's [seconds, nanoseconds]. */
function hrTime(value: number | string | null | undefined): HrTime | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ns = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? BigInt(Math.round(value)) : undefined) : /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
  if (ns === undefined) return undefined;
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

const traceIdHex = (v: string): string => (/^[0-9a-f]{32}$/i.test(v) ? v.toLowerCase() : base64ToHex(v));

/** An attribute as OpenTelemetry carries it: primitives and primitive arrays as they are, anything else as JSON. */
function attributeOf(v: unknown): AttributeValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return JSON.stringify(v);
}

function attributesOf(raw: Record<string, unknown> | undefined, extra: Attributes = {}): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    const a = attributeOf(v);
    if (a !== undefined) out[k] = a;
  }
  return { ...out, ...extra };
}

const STATUS: Record<string, SpanStatusCode> = { OK: SpanStatusCode.OK, STATUS_CODE_OK: SpanStatusCode.OK, ERROR: SpanStatusCode.ERROR, STATUS_CODE_ERROR: SpanStatusCode.ERROR };

/** The attributes every exported span of a trace carries: the store's ids and the run's attribution. */
export function traceContextAttributes(batch: Pick<IngestedSpans, 'traceId' | 'experimentId' | 'runId' | 'attribution'>): Attributes {
  const attrs: Attributes = { 'runlens.trace_id': batch.traceId };
  if (batch.experimentId) attrs['runlens.experiment_id'] = batch.experimentId;
  if (batch.runId) attrs['runlens.run_id'] = batch.runId;
  for (const a of ATTRIBUTES) if ((batch.attribution as Attribution)[a] !== undefined) attrs[attributeTag(a)] = (batch.attribution as Attribution)[a]!;
  return attrs;
}

/**
 * A stored span as the SDK's finished span, keeping the client's trace and span ids, times to
 * the nanosecond, status, events and attributes (MLflow's JSON-encoded values stay strings, as
 * MLflow's own exporter sends them), plus the trace's governance attributes.
 */
export function readableSpan(s: SpanDict, resource: ReadableSpan['resource'], extra: Attributes): ReadableSpan {
  const traceId = traceIdHex(s.trace_id);
  const context = { traceId, spanId: spanIdHex(s.span_id), traceFlags: TraceFlags.SAMPLED };
  const start = hrTime(s.start_time_unix_nano) ?? [0, 0];
  const end = hrTime(s.end_time_unix_nano) ?? start;
  const startNs = BigInt(start[0]) * 1_000_000_000n + BigInt(start[1]);
  const endNs = BigInt(end[0]) * 1_000_000_000n + BigInt(end[1]);
  const d = endNs > startNs ? endNs - startNs : 0n;
  const events: TimedEvent[] = (s.events ?? []).map((e) => ({ name: e.name, time: hrTime(e.time_unix_nano) ?? start, attributes: attributesOf(e.attributes) }));
  const code = STATUS[s.status?.code ?? ''] ?? SpanStatusCode.UNSET;
  return {
    name: s.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    ...(s.parent_span_id ? { parentSpanContext: { traceId, spanId: spanIdHex(s.parent_span_id), traceFlags: TraceFlags.SAMPLED, isRemote: false } } : {}),
    startTime: start,
    endTime: end,
    status: { code, ...(s.status?.message ? { message: s.status.message } : {}) },
    attributes: attributesOf(s.attributes, extra),
    links: [],
    events,
    duration: [Number(d / 1_000_000_000n), Number(d % 1_000_000_000n)],
    ended: true,
    resource,
    instrumentationScope: { name: 'runlens.traces' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

export function otelSink(opts: OtelOptions): OperationSink {
  const base = opts.endpoint.replace(/\/+$/, '');
  const resource = resourceFromAttributes({ 'service.name': opts.serviceName ?? 'runlens' });
  const tracer = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: opts.headers ?? {} }), { scheduledDelayMillis: 1000 })],
  });
  const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers: opts.headers ?? {} }), exportIntervalMillis: opts.metricIntervalMs ?? 10_000 });
  const meters = new MeterProvider({ resource, readers: [reader] });
  const meter = meters.getMeter('runlens.governance');
  const cost = meter.createCounter('genops.cost', { unit: 'USD', description: 'Cost charged per operation by the Runlens governance ledger' });
  const operations = meter.createCounter('genops.operations', { description: 'Mutating operations seen by the Runlens governance layer, by outcome' });
  const t = tracer.getTracer('runlens.governance');
  // Ingested traces go through their own batch processor: their spans keep the client's ids.
  const ingested = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: opts.headers ?? {} }), { scheduledDelayMillis: 1000, maxQueueSize: 8192 });
  return {
    onIngestedSpans(batch: IngestedSpans): void {
      const res = batch.resource ? resourceFromAttributes({ 'service.name': opts.serviceName ?? 'runlens', ...attributesOf(batch.resource) }) : resource;
      const extra = traceContextAttributes(batch);
      for (const s of batch.spans) {
        // A span whose ids are not OpenTelemetry's (16/32 hex) is left out, not the rest of its trace.
        let span: ReadableSpan;
        try {
          span = readableSpan(s, res, extra);
        } catch {
          continue;
        }
        const c = span.spanContext();
        if (!/^[0-9a-f]{32}$/.test(c.traceId) || !/^[0-9a-f]{16}$/.test(c.spanId) || (span.parentSpanContext && !/^[0-9a-f]{16}$/.test(span.parentSpanContext.spanId))) continue;
        ingested.onEnd(span);
      }
    },
    onOperation(e: AuditEntry): void {
      const attrs: Attributes = { 'genops.operation': e.op, 'genops.outcome': e.outcome, 'genops.actor': e.actor, 'genops.cost.usd': fromNano(e.cost_nano) };
      for (const a of ATTRIBUTES) if (e.attribution[a] !== undefined) attrs[attributeTag(a)] = e.attribution[a];
      for (const [k, v] of Object.entries(e.target)) if (v !== undefined) attrs[`runlens.${k}`] = v;
      if (e.reason) attrs['genops.reason'] = e.reason;
      const span = t.startSpan(`runlens.${e.op}`, { startTime: e.ts, attributes: attrs });
      span.end(e.ts);
      const metricAttrs: Attributes = { 'genops.operation': e.op, 'genops.outcome': e.outcome };
      for (const a of ATTRIBUTES) if (e.attribution[a] !== undefined) metricAttrs[attributeTag(a)] = e.attribution[a];
      operations.add(1, metricAttrs);
      if (e.cost_nano) cost.add(fromNano(e.cost_nano), metricAttrs);
    },
    async close(): Promise<void> {
      await Promise.allSettled([tracer.shutdown(), meters.shutdown(), ingested.shutdown()]);
    },
  };
}
