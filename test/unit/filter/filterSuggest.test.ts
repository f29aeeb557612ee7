// suggest(): what the editor and the views' filter boxes offer at the caret, from key statistics.
import * as assert from 'node:assert/strict';
import { keyStatsFrom, suggest, type KeyStatsLike } from '../../../src/filter/filterSuggest';

const runs = keyStatsFrom([
  { metrics: { loss: 0.2, acc: 0.9 }, params: { model: 'rf' }, tags: { status: 'ok' } },
  { metrics: { loss: Number.NaN }, params: { model: "o'k" } },
  { metrics: { loss: 0.5 }, params: { model: 'rf' } },
]);
const labels = (kind: Parameters<typeof suggest>[0], text: string, keys: KeyStatsLike | undefined): string[] => suggest(kind, text, text.length, keys, 'filter').map((s) => s.label);

describe('filter suggestions', () => {
  it('counts keys and values, keeps the newest number as latest and NaN out of the range', () => {
    assert.equal(runs.total, 3);
    const loss = runs.keys.metrics!.get('loss')!;
    assert.deepEqual([loss.count, loss.min, loss.max, loss.latest!.value], [3, 0.2, 0.5, 0.2]);
    assert.deepEqual([...runs.keys.params!.get('model')!.values!], [['rf', 2], ["o'k", 1]]);
  });

  it('ranks keys by count, offers seen values quoted with quotes doubled, metric min/max/latest', () => {
    assert.deepEqual(labels('runs', 'metrics.', runs), ['loss', 'acc']);
    const values = suggest('runs', 'params.model = ', 15, runs, 'filter');
    assert.deepEqual(values.map((s) => [s.label, s.insertText, s.detail]), [["'rf'", "'rf'", '2 runs'], ["'o'k'", "'o''k'", '1 run']]);
    assert.deepEqual(labels('runs', 'metrics.loss > ', runs), ['0.2', '0.5', '0.2']);
  });

  it('replaces the whole identifier of a key, with backticks where needed, and marks prefixes to suggest again', () => {
    const keys = keyStatsFrom([{ metrics: { 'val loss': 1 } }]);
    const [item] = suggest('runs', 'x > 1 and metrics.va', 20, keys, 'filter');
    assert.deepEqual([item!.insertText, item!.replaceStart, item!.filterText], ['metrics.`val loss`', 10, 'metrics.val loss']);
    assert.ok(suggest('runs', 'met', 3, undefined, 'filter').find((s) => s.label === 'metrics.')!.retrigger);
  });

  it('offers status values after the status attribute only, not after a tag or param named status', () => {
    assert.deepEqual(labels('runs', 'attributes.status = ', undefined), ["'RUNNING'", "'SCHEDULED'", "'FINISHED'", "'FAILED'", "'KILLED'"]);
    assert.deepEqual(labels('traces', 'state = ', undefined), ["'OK'", "'ERROR'", "'IN_PROGRESS'"]);
    assert.deepEqual(labels('runs', 'tags.status = ', runs), ["'ok'"]);
    assert.deepEqual(labels('experiments', 'tags.status = ', undefined), []);
    assert.deepEqual(labels('traces', 'tags.state = ', undefined), []);
  });

  it('reads trace tags under the entity name, counted out of traces', () => {
    const traces = keyStatsFrom([{ tag: { env: 'prod' } }, { tag: { env: 'dev' } }]);
    assert.deepEqual(suggest('traces', 'tags.', 5, traces, 'filter').map((s) => [s.label, s.detail]), [['env', '2 of 2 traces']]);
    assert.deepEqual(labels('traces', 'tag.env = ', traces), ["'prod'", "'dev'"]);
  });
});
