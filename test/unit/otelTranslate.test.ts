import * as assert from 'node:assert/strict';
import { aggregateUsage, parseIntAttribute, sanitizeAttributes, translateSpan, truncatedPreview } from '../../src/store/traces/otelTranslate';
import { pyFloat, pyJsonDumps } from '../../src/domain/pyJson';
import type { SpanDict } from '../../src/domain/traceTypes';

function span(attributes: Record<string, unknown>, events: SpanDict['events'] = []): SpanDict {
  return { trace_id: 'x', span_id: 'y', parent_span_id: null, name: 'n', start_time_unix_nano: 1, end_time_unix_nano: 2, attributes, status: { code: 'STATUS_CODE_OK' }, events };
}

describe('GenAI convention translation (MLflow 3.17.2 translate_span_when_storing)', () => {
  it('writes JSON as Python json.dumps does', () => {
    assert.equal(pyJsonDumps({ a: [1, 'é', null, true], b: { c: 1.5 } }), '{"a": [1, "\\u00e9", null, true], "b": {"c": 1.5}}');
    assert.deepEqual([pyFloat(2), pyFloat(1e-5), pyFloat(1e16), pyFloat(0.25), pyFloat(1.2749999999999999e-6)], ['2.0', '1e-05', '1e+16', '0.25', '1.2749999999999999e-06']);
  });

  it('strips one layer from doubly encoded strings only when the inner text is a string, object or list', () => {
    assert.deepEqual(sanitizeAttributes({ a: '"[1, 2]"', b: '"12"', c: '"plain"', d: '{"x": 1}', e: '"\\"s\\""' }), { a: '[1, 2]', b: '"12"', c: '"plain"', d: '{"x": 1}', e: '"s"' });
  });

  it('reads token counts as MLflow does: ints, JSON ints and JSON strings of digits', () => {
    assert.deepEqual(['26', '"26"', '2.0', 'x', undefined].map(parseIntAttribute), [26, 26, undefined, undefined, undefined]);
  });

  it('fills type, inputs, outputs, usage, model and provider; keeps what the span already says', () => {
    const out = translateSpan(
      span({
        'openinference.span.kind': '"LLM"',
        'input.value': '"q"',
        'llm.token_count.prompt': '3',
        'llm.token_count.completion': '4',
        'llm.model_name': '"m"',
        'mlflow.spanOutputs': '"kept"',
        'output.value': '"ignored"',
      }),
    ).attributes;
    assert.equal(out['mlflow.spanType'], '"LLM"');
    assert.equal(out['mlflow.spanInputs'], '"q"');
    assert.equal(out['mlflow.spanOutputs'], '"kept"');
    assert.equal(out['mlflow.chat.tokenUsage'], '{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}');
    assert.equal(out['mlflow.llm.model'], '"m"');
    assert.equal(translateSpan(span({ 'mlflow.spanType': '"TOOL"', 'openinference.span.kind': '"LLM"' })).attributes['mlflow.spanType'], '"TOOL"');
    assert.equal(translateSpan(span({ 'mlflow.spanType': '"UNKNOWN"', 'traceloop.span.kind': '"task"' })).attributes['mlflow.spanType'], '"TASK"');
  });

  it('takes Spring AI inputs from events, Traceloop inputs by indexed key, Vercel chat spans unpacked', () => {
    const spring = translateSpan(span({ 'gen_ai.operation.name': '"chat"' }, [{ name: 'gen_ai.content.prompt', time_unix_nano: 1, attributes: { 'gen_ai.prompt': 'P?' } }])).attributes;
    assert.equal(spring['mlflow.spanType'], '"CHAT_MODEL"');
    assert.equal(spring['mlflow.spanInputs'], 'P?');
    assert.equal(translateSpan(span({ 'gen_ai.prompt.3.content': '"hi"' })).attributes['mlflow.spanInputs'], '"hi"');
    const vercel = translateSpan(span({ 'ai.operationId': '"ai.generateText.doGenerate"', 'ai.prompt.messages': '[{"role": "user"}]', 'ai.response.text': '"r"' })).attributes;
    assert.equal(vercel['mlflow.spanInputs'], '{"messages": [{"role": "user"}]}');
    assert.equal(vercel['mlflow.spanOutputs'], '{"text": "r"}');
    assert.equal(vercel['mlflow.message.format'], '"vercel_ai"');
    assert.equal(vercel['mlflow.spanType'], '"LLM"');
  });

  it('aggregates usage over the span tree: a span under one that reports usage is not counted', () => {
    const usage = aggregateUsage([
      { spanId: 'r', parentId: null, usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } },
      { spanId: 'c', parentId: 'r', usage: { input_tokens: 6, output_tokens: 3, total_tokens: 9 } },
      { spanId: 'o', parentId: 'gone', usage: { input_tokens: 1, cache_read_input_tokens: 2 } },
    ]);
    assert.deepEqual(usage, { input_tokens: 11, output_tokens: 5, total_tokens: 15, cache_read_input_tokens: 2 });
    assert.equal(aggregateUsage([{ spanId: 'a', parentId: null, usage: undefined }]), undefined);
  });

  it('previews the last message of the role in chat payloads, else the stored text, cut at 1000 chars', () => {
    assert.equal(truncatedPreview('{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}', 'user'), 'a');
    assert.equal(truncatedPreview('{"choices": [{"message": {"role": "assistant", "content": [{"type": "text", "text": "t"}]}}]}', 'assistant'), 't');
    assert.equal(truncatedPreview('"hello!"', 'assistant'), '"hello!"');
    assert.equal(truncatedPreview('x'.repeat(1001), 'user'), `${'x'.repeat(997)}...`);
  });
});

describe('span text search (trace.text / span.content)', () => {
  it('matches LIKE case-sensitively and ILIKE with ASCII folding, over span JSON, pruned by Bloom filters', async () => {
    const { openStore, tempRoot } = await import('./helpers');
    const store = await openStore(tempRoot());
    const exp = await store.createExperiment('text');
    const hex = (n: string): string => Buffer.from(n, 'hex').toString('base64');
    for (const [t, word] of [['a1'.repeat(16), 'Paris'], ['b2'.repeat(16), 'Berlin_x']] as const) {
      await store.traces.ingest(exp, [
        { traceIdHex: t, span: { trace_id: hex(t), span_id: hex('1'.repeat(16)), parent_span_id: null, name: 'tool', start_time_unix_nano: '1700000000000000000', end_time_unix_nano: '1700000000100000000', attributes: { 'input.value': JSON.stringify(`Sunny in ${word}`) }, status: { code: 'STATUS_CODE_OK' }, events: [] } },
      ]);
    }
    const hits = async (filter: string): Promise<number> => (await store.traces.search({ experimentIds: [exp], filter })).items.length;
    assert.equal(await hits("trace.text LIKE '%Paris%'"), 1);
    assert.equal(await hits("trace.text LIKE '%paris%'"), 0);
    assert.equal(await hits("trace.text ILIKE '%PARIS%'"), 1);
    assert.equal(await hits("trace.text LIKE '%Berlin_x%'"), 1);
    assert.equal(await hits("span.content LIKE '%\"name\": \"tool\"%'"), 2);
    assert.equal(await hits("trace.text LIKE '%Sunny%' AND span.content LIKE '%Berlin%'"), 1);
    await assert.rejects(() => hits("trace.text = 'Paris'"), /span.content comparator '=' not one of/);
    assert.equal((await store.traces.spanSummaries(`tr-${'a1'.repeat(16)}`))[0]!.attributes.some(([k]) => k === 'runlens.textBloom'), false);
    await store.close();
  });
});
