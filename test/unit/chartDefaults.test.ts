/// <reference lib="dom" />
// What the charts view shows before the user picks, and how compare lays out string params.
import * as assert from 'node:assert/strict';
import type { RunRow, RunSummary } from '../../src/ui/protocol';
import { defaultKeys, keyInfos, matchesSearch } from '../../webview/charts/metricKeys';
import { axisOf, position, UNSET } from '../../webview/compare/parallelAxes';

function run(id: string, latest: Record<string, number>): RunSummary {
  return { runId: id, name: id, experimentId: '1', status: 'FINISHED', metricKeys: Object.keys(latest).sort(), latest: Object.fromEntries(Object.entries(latest).map(([k, step]) => [k, { value: 0.5, step }])) };
}

function row(params: Record<string, string>): RunRow {
  return { runId: 'r', name: 'r', status: 'FINISHED', experimentId: '1', params, metrics: {}, tags: {} } as unknown as RunRow;
}

describe('chart defaults', () => {
  it('ticks stepped metrics first, longest history first, then single-value ones (not alphabetical)', () => {
    const runs = [run('a', { accuracy: 0, f1: 0, precision: 0, recall: 0, train_loss: 49, val_loss: 199 }), run('b', { accuracy: 0, f1: 0, val_loss: 99 })];
    assert.deepEqual(defaultKeys(runs, 4), ['val_loss', 'train_loss', 'accuracy', 'f1']);
    assert.deepEqual(defaultKeys(runs, 1), ['val_loss']);
  });

  it('uses the highest latest step across runs for a key', () => {
    const infos = keyInfos([run('a', { loss: 3 }), run('b', { loss: 250 })]);
    assert.deepEqual(infos, [{ key: 'loss', maxStep: 250, runs: 2 }]);
  });

  it('falls back to single-value metrics alphabetically when nothing has a history', () => {
    assert.deepEqual(defaultKeys([run('a', { r2: 0, mae: 0, best: 0 })]), ['best', 'mae', 'r2']);
    assert.deepEqual(defaultKeys([run('a', {})]), []);
  });

  it('matches every word of a search, case-insensitively', () => {
    assert.ok(matchesSearch('val_Loss', 'loss VAL'));
    assert.ok(!matchesSearch('train_loss', 'val loss'));
    assert.ok(matchesSearch('anything', '  '));
  });
});

describe('parallel coordinates axes', () => {
  it('makes string params categorical: numbers in order, then words, then None and unset', () => {
    const runs = [row({ max_depth: 'None', max_features: 'sqrt' }), row({ max_depth: '10', max_features: 'log2' }), row({ max_depth: '3' }), row({ max_depth: '5', max_features: 'sqrt' })];
    assert.deepEqual(axisOf(runs, 'param:max_depth'), { kind: 'category', values: ['3', '5', '10', 'None'] });
    assert.deepEqual(axisOf(runs, 'param:max_features'), { kind: 'category', values: ['log2', 'sqrt', UNSET] });
  });

  it('keeps numeric params numeric and places values on [0, 1]', () => {
    const runs = [row({ lr: '0.1' }), row({ lr: '0.3' }), row({})];
    const axis = axisOf(runs, 'param:lr');
    assert.equal(axis.kind, 'number');
    assert.equal(position(axis, '0.3'), 1);
    assert.equal(position(axis, undefined), null);
    const cat = axisOf([row({ a: 'x' }), row({ a: 'y' }), row({ a: 'z' })], 'param:a');
    assert.deepEqual([position(cat, 'x'), position(cat, 'y'), position(cat, 'z')], [0, 0.5, 1]);
  });
});
