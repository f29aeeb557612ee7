/** What the trace viewer draws of a trace, to compare the views' answers from two servers. */
import * as assert from 'node:assert/strict';
import type { SpanView, TraceRow } from '../../src/ui/protocol';

/** A trace row's query (its `q` tag), which names the same trace on both servers. */
export function byQuery(rows: TraceRow[]): Map<string, TraceRow> {
  return new Map(rows.map((r) => [r.tags.q!, r]));
}

/** A span tree as names: each span with its parent's name, in start order; what the viewer draws. */
export function tree(spans: SpanView[]): unknown[] {
  const names = new Map(spans.map((s) => [s.spanId, s.name]));
  return [...spans]
    .sort((a, b) => a.startUs - b.startUs)
    .map((s) => ({
      name: s.name,
      parent: s.parentId === null ? null : (names.get(s.parentId) ?? `missing ${s.parentId}`),
      type: s.type,
      status: s.status,
      statusMessage: s.statusMessage,
      inputs: s.inputs,
      outputs: s.outputs,
      attributes: s.attributes,
      events: s.events.map((e) => ({ name: e.name, type: e.attributes['exception.type'], message: e.attributes['exception.message'] })),
      model: s.model,
      tokens: s.tokens,
      durationUs: s.endUs === null ? null : s.endUs - s.startUs,
    }));
}


/** A tree with only whether each span has a duration (the two servers' seed runs took their own time). */
export function untimed(t: unknown[]): unknown[] {
  return t.map((s) => ({ ...(s as Record<string, unknown>), durationUs: typeof (s as { durationUs: unknown }).durationUs }));
}

/** The seeds' failing trace ("boom"): the pipeline and its answer failed with a ValueError, the retrieval did not. */
export function assertFailedPipeline(spans: SpanView[]): void {
  const boom = tree(spans) as { name: string; status: string; events: { type?: unknown }[] }[];
  assert.deepEqual(
    boom.map((s) => [s.name, s.status]),
    [
      ['pipeline', 'ERROR'],
      ['retrieve', 'OK'],
      ['answer', 'ERROR'],
    ],
  );
  assert.equal(boom[2]!.events[0]!.type, 'ValueError');
}
