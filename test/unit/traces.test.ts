import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlflowError } from '../../src/domain/errors';
import type { LocalStore } from '../../src/store/localStore';
import { decodeOtlpJson, decodeOtlpProtobuf, OtlpError } from '../../src/server/otlp/otlpDecode';
import { openStore, tempRoot } from './helpers';

/** A tiny protobuf writer for building OTLP bodies by hand (field numbers from trace.proto). */
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const field = (no: number, wire: number): number[] => varint((no << 3) | wire);
const bytes = (no: number, data: Uint8Array | number[]): number[] => [...field(no, 2), ...varint(data.length), ...data];
const str = (no: number, s: string): number[] => bytes(no, [...Buffer.from(s, 'utf8')]);
function fixed64(no: number, v: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return [...field(no, 1), ...b];
}
const kv = (key: string, value: number[]): number[] => bytes(9, [...str(1, key), ...bytes(2, value)]);

function span(traceHex: string, spanHex: string, parentHex: string | null, name: string): number[] {
  return [
    ...bytes(1, [...Buffer.from(traceHex, 'hex')]),
    ...bytes(2, [...Buffer.from(spanHex, 'hex')]),
    ...(parentHex ? bytes(4, [...Buffer.from(parentHex, 'hex')]) : []),
    ...str(5, name),
    ...fixed64(7, 1_700_000_000_000_000_000n),
    ...fixed64(8, 1_700_000_000_250_000_000n),
    ...kv('gen_ai.usage.input_tokens', [...field(3, 0), ...varint(11)]),
    ...kv('llm.flag', [...field(2, 0), 1]),
    ...kv('note', str(1, 'hi')),
    ...bytes(15, [...field(3, 0), 2, ...str(2, 'boom')]),
  ];
}

function request(...spans: number[][]): Uint8Array {
  const scope = spans.flatMap((s) => bytes(2, s));
  return Uint8Array.from(bytes(1, bytes(2, scope)));
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof MlflowError && err.errorCode === code && (!pattern || pattern.test(err.message)));
}

const T = 'a'.repeat(32);

describe('OTLP decoding', () => {
  it('reads spans, ids, times, typed attributes and status from protobuf', () => {
    const [s] = decodeOtlpProtobuf(request(span(T, '1'.repeat(16), '2'.repeat(16), 'llm call')));
    assert.equal(s!.traceIdHex, T);
    assert.equal(s!.span.name, 'llm call');
    assert.equal(Buffer.from(s!.span.span_id, 'base64').toString('hex'), '1'.repeat(16));
    assert.equal(Buffer.from(s!.span.parent_span_id!, 'base64').toString('hex'), '2'.repeat(16));
    assert.equal(s!.span.start_time_unix_nano, '1700000000000000000');
    assert.deepEqual(s!.span.attributes, { 'gen_ai.usage.input_tokens': '11', 'llm.flag': 'true', note: '"hi"' });
    assert.deepEqual(s!.span.status, { code: 'STATUS_CODE_ERROR', message: 'boom' });
  });

  it('refuses truncated, mistyped or id-less messages with a clear message', () => {
    const good = request(span(T, '1'.repeat(16), null, 'x'));
    for (const bad of [good.subarray(0, good.length - 3), Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), Uint8Array.from([0x0b])]) {
      assert.throws(() => decodeOtlpProtobuf(bad), /not a valid ExportTraceServiceRequest/);
    }
    // As MLflow: an all-zero id is an id; a missing one cannot be converted (422).
    assert.equal(decodeOtlpProtobuf(request(span('00'.repeat(16), '1'.repeat(16), null, 'x')))[0]!.traceIdHex, '0'.repeat(32));
    assert.throws(
      () => decodeOtlpProtobuf(request(span('', '1'.repeat(16), null, 'x'))),
      (err: unknown) => err instanceof OtlpError && err.status === 422 && err.detail === 'Cannot convert OpenTelemetry span to MLflow span',
    );
  });

  it('reads the JSON mapping (hex ids, camelCase, string int64) the same way', () => {
    const [s] = decodeOtlpJson(
      Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: T, spanId: '1'.repeat(16), name: 'j', startTimeUnixNano: '5', kind: 1, attributes: [{ key: 'n', value: { intValue: '7' } }] }] }] }] })),
    );
    assert.equal(s!.traceIdHex, T);
    assert.deepEqual(s!.span.attributes, { n: '7' });
    assert.equal(s!.span.end_time_unix_nano, null);
  });
});

describe('trace store', () => {
  let store: LocalStore;
  let exp: string;
  let root: string;

  before(async () => {
    root = tempRoot();
    store = await openStore(root);
    exp = await store.createExperiment('traces');
  });

  it('builds a trace from OTLP spans: root gives state and duration; token usage over the span tree', async () => {
    const spans = decodeOtlpProtobuf(request(span(T, '1'.repeat(16), null, 'root'), span(T, '2'.repeat(16), '1'.repeat(16), 'child')));
    await store.traces.ingest(exp, spans);
    await store.traces.ingest(exp, spans.slice(1)); // a resent span is not counted twice
    const info = (await store.traces.get(`tr-${T}`));
    assert.equal(info.state, 'ERROR');
    assert.equal(info.execution_duration, '0.25s');
    // MLflow names no OTLP trace after its root span.
    assert.equal(info.tags['mlflow.traceName'], undefined);
    assert.equal(info.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
    // The child's usage is under a parent that reports usage: counted once, as MLflow does.
    assert.equal(info.trace_metadata['mlflow.trace.tokenUsage'], '{"input_tokens": 11, "output_tokens": 0, "total_tokens": 0}');
    assert.equal((await store.traces.readSpans(`tr-${T}`)).length, 2);
    assert.deepEqual((await store.traces.spanSummaries(`tr-${T}`)).map((s) => s.name), ['root', 'child']); // same start: by span id
  });

  it('searches with the trace filter language and rejects unknown keys', async () => {
    const page = (await store.traces.search({ experimentIds: [exp], filter: "span.name = 'child' AND trace.status = 'ERROR'" }));
    assert.equal(page.items.length, 1);
    assert.equal((await store.traces.search({ experimentIds: [exp], filter: "span.name = 'nope'" })).items.length, 0);
    assert.equal((await store.traces.search({ experimentIds: [exp], filter: "span.attributes.note = 'hi' AND span.attributes.llm.flag = 'true'" })).items.length, 1);
    assert.equal((await store.traces.search({ experimentIds: [exp], filter: 'span.attributes.gen_ai.usage.input_tokens = 11' })).items.length, 1);
    assert.equal((await store.traces.search({ experimentIds: [exp], filter: "span.attributes.note = 'nope'" })).items.length, 0);
    assert.deepEqual((await store.traces.spanSummaries(`tr-${T}`))[0]!.attributes.sort(), [
      ['gen_ai.usage.input_tokens', '11'],
      ['llm.flag', 'true'],
      ['mlflow.chat.tokenUsage', '{"input_tokens":11}'],
      ['note', 'hi'],
    ]);
    assert.equal((await store.traces.search({ experimentIds: [exp], filter: "span.content LIKE '%no such text%'" })).items.length, 0); // text search, see otelTranslate.test.ts
    await assert.rejects(async () => (await store.traces.search({ experimentIds: [exp], filter: 'trace.timestamp_ms > abc' })), /Invalid filter|numeric/);
    await assert.rejects(async () => (await store.traces.search({ experimentIds: [exp], maxResults: 501 })), /between 1 and 500/);
  });

  it('keeps assessments: create, override, update, delete brings the overridden one back', async () => {
    const id = `tr-${T}`;
    const first = await store.traces.createAssessment(id, { assessment_name: 'ok', source: { source_type: 'HUMAN', source_id: 'me' }, feedback: { value: true } });
    const second = await store.traces.createAssessment(id, { assessment_name: 'ok', source: { source_type: 'HUMAN' }, feedback: { value: false }, overrides: first.assessment_id });
    assert.equal((await store.traces.getAssessment(id, first.assessment_id)).valid, false);
    const updated = await store.traces.updateAssessment(id, second.assessment_id, { rationale: 'checked' }, ['rationale']);
    assert.equal(updated.rationale, 'checked');
    assert.equal((await store.traces.search({ experimentIds: [exp], filter: "feedback.ok = 'false'" })).items.length, 1);
    await store.traces.deleteAssessment(id, second.assessment_id);
    assert.equal((await store.traces.getAssessment(id, first.assessment_id)).valid, true);
    await rejectsWith(store.traces.createAssessment(id, { assessment_name: 'x', source: { source_type: 'CODE' } }), 'INVALID_PARAMETER_VALUE', /exactly one of/);
  });

  it('moves a trace id started again in another experiment there, as MLflow (seeded random ids repeat across scripts)', async () => {
    const id = 'tr-' + 'ab'.repeat(16);
    const other = await store.createExperiment(`reused-${Date.now()}`);
    await store.traces.start({ traceId: id, experimentId: exp, requestTimeMs: 1, state: 'OK', metadata: {}, tags: {}, assessments: [] });
    await store.traces.start({ traceId: id, experimentId: other, requestTimeMs: 2, state: 'OK', metadata: {}, tags: {}, assessments: [] });
    assert.equal((await store.traces.get(id)).trace_location.mlflow_experiment?.experiment_id, other);
    assert.deepEqual((await store.traces.search({ experimentIds: [other] })).items.map((t) => t.trace_id), [id]);
    assert.ok(!(await store.traces.search({ experimentIds: [exp] })).items.some((t) => t.trace_id === id));
    await rejectsWith(store.traces.start({ traceId: id, experimentId: '999999', requestTimeMs: 3, state: 'OK', metadata: {}, tags: {}, assessments: [] }), 'RESOURCE_DOES_NOT_EXIST', /999999/);
  });

  it('refuses a malformed traces.json whole and leaves nothing behind', async () => {
    const info = await store.traces.start({ traceId: 'tr-' + 'b'.repeat(32), experimentId: exp, requestTimeMs: 1, state: 'OK', metadata: {}, tags: {}, assessments: [] });
    const dir = info.tags['mlflow.artifactLocation']!.replace('mlflow-artifacts:/', '');
    await rejectsWith(store.traces.acceptTracesJson(info.trace_id, Buffer.from('{"spans":[{"span_id":"x","name":"a"}]}')), 'INVALID_PARAMETER_VALUE', /start_time_unix_nano/);
    assert.deepEqual((await store.traces.readSpans(info.trace_id)), []);
    assert.equal((await store.traces.traceForUpload(`${dir}/traces.json`)), info.trace_id);
    assert.equal((await store.traces.traceForUpload(`9/traces/${info.trace_id}/artifacts/traces.json`)), undefined);
  });

  it('keeps the server-owned location tags out of clients\' reach, so deleting a trace removes only its folder', async () => {
    const id = `tr-${T}`;
    await rejectsWith(store.traces.setTag(id, 'mlflow.artifactLocation', `mlflow-artifacts:/${exp}`), 'INVALID_PARAMETER_VALUE', /set by the server/);
    await rejectsWith(store.traces.deleteTag(id, 'mlflow.trace.spansLocation'), 'INVALID_PARAMETER_VALUE', /set by the server/);
    const info = await store.traces.start({ traceId: id, experimentId: exp, requestTimeMs: 1, state: 'OK', metadata: {}, tags: { 'mlflow.artifactLocation': 'mlflow-artifacts:/0' }, assessments: [] });
    assert.equal(info.tags['mlflow.artifactLocation'], `mlflow-artifacts:/${exp}/traces/${id}/artifacts`);
  });

  it('keeps OTLP spans readable for an experiment whose artifacts live elsewhere, and deletes them with the trace', async () => {
    const elsewhere = tempRoot();
    const other = await store.createExperiment('file-location', `file://${elsewhere}`);
    const hex = 'c'.repeat(32);
    const id = `tr-${hex}`;
    await store.traces.ingest(other, decodeOtlpProtobuf(request(span(hex, '1'.repeat(16), null, 'root'), span(hex, '2'.repeat(16), '1'.repeat(16), 'child'))));
    assert.equal((await store.traces.get(id)).tags['mlflow.artifactLocation'], `file://${elsewhere}/traces/${id}/artifacts`);
    assert.deepEqual((await store.traces.readSpans(id)).map((s) => s.name), ['root', 'child']);
    const folder = path.join(root, other, 'traces', id);
    assert.ok(fs.existsSync(path.join(folder, 'artifacts', 'spans.jsonl')));
    assert.deepEqual(fs.readdirSync(elsewhere), [], 'nothing is written outside the store');
    assert.equal(await store.traces.delete({ experimentId: other, traceIds: [id] }), 1);
    assert.ok(!fs.existsSync(folder));
  });

  it('keeps the client\'s trace info when its StartTraceV3 lands while spans of the trace are being stored', async () => {
    const otlp = (hex: string, spanId: string, parent: string | null, attrs: Record<string, string>) =>
      decodeOtlpJson(
        Buffer.from(
          JSON.stringify({
            resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: hex, spanId, parentSpanId: parent ?? undefined, name: parent ? 'child' : 'root', startTimeUnixNano: '1000000', endTimeUnixNano: '5000000', attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })) }] }] }],
          }),
        ),
      );
    const finish = (hex: string) => ({ traceId: `tr-${hex}`, experimentId: exp, requestTimeMs: 1, durationMs: 4, state: 'OK' as const, responsePreview: '"Paris"', metadata: {}, tags: {}, assessments: [] });
    // The root span's payload is being written when the client's StartTraceV3 arrives.
    const a = 'd'.repeat(32);
    const root = store.traces.ingest(exp, otlp(a, '1'.repeat(16), null, { 'mlflow.spanOutputs': '"derived from the span"' }));
    await store.traces.start(finish(a));
    await root;
    assert.equal((await store.traces.get(`tr-${a}`)).response_preview, '"Paris"');
    assert.equal((await store.traces.readSpans(`tr-${a}`)).length, 1);
    // A child span of a trace not seen before, stored while StartTraceV3 finishes that trace.
    const b = 'e'.repeat(32);
    const child = store.traces.ingest(exp, otlp(b, '2'.repeat(16), '1'.repeat(16), {}));
    await store.traces.start(finish(b));
    await child;
    assert.equal((await store.traces.get(`tr-${b}`)).state, 'OK', 'a finished trace does not go back to IN_PROGRESS');
    assert.equal((await store.traces.spanSummaries(`tr-${b}`)).length, 1);
  });

  it('replays traces, spans and assessments from the journal after an unclean stop', async () => {
    await store.close({ checkpoint: false });
    store = await openStore(root);
    const info = (await store.traces.get(`tr-${T}`));
    assert.equal(info.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
    assert.equal(info.trace_metadata['mlflow.trace.tokenUsage'], '{"input_tokens": 11, "output_tokens": 0, "total_tokens": 0}');
    assert.equal(info.assessments.length, 1);
    assert.equal((await store.traces.spanSummaries(`tr-${T}`)).length, 2);
    assert.equal((await store.traces.readSpans(`tr-${T}`)).length, 2);
  });
});
