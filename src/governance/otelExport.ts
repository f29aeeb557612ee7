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
import type { Attributes } from '@opentelemetry/api';
import { attributeTag, ATTRIBUTES } from './attribution';
import type { AuditEntry } from './auditLog';
import type { OperationSink } from './governance';
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
  return {
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
      await Promise.allSettled([tracer.shutdown(), meters.shutdown()]);
    },
  };
}
