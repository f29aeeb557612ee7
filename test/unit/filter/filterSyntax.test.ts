// The recovering parser and the checker: every construct, every error kind with its range,
// recovery (each broken clause reported), and "did you mean" from the vocabulary and known keys.
import * as assert from 'node:assert/strict';
import { parseFilterText, parseOrderByText } from '../../../src/filter/filterSyntax';
import { checkFilter, checkOrderBy, describeDiagnostic, formatIdentifier } from '../../../src/filter/filterCheck';
import { closest } from '../../../src/filter/didYouMean';
import { VOCABULARIES } from '../../../src/filter/vocabulary';
import type { FilterDiagnostic } from '../../../src/filter/filterAst';

/** Each diagnostic as [code, the text it covers, message fragment]. */
const spans = (source: string, ds: FilterDiagnostic[]): [string, string][] => ds.map((d) => [d.code, source.slice(d.start, d.end)]);

describe('recovering filter parser', () => {
  it('gives every clause its ranges: identifier, key, comparator, value', () => {
    const f = "metrics.`val loss` <= 1e-3 AND params.lr IN ('0.1', '0.2') and tags.mlflow.runName != 'x'";
    const { clauses, diagnostics } = parseFilterText(f);
    assert.deepEqual(diagnostics, []);
    const parts = clauses.map((c) => ({
      id: f.slice(c.identifier.range.start, c.identifier.range.end),
      key: f.slice(c.identifier.keyRange.start, c.identifier.keyRange.end),
      cmp: f.slice(c.comparatorRange.start, c.comparatorRange.end),
      value: 'valueRange' in c ? f.slice(c.valueRange.start, c.valueRange.end) : '',
      quoted: c.identifier.quotedKey,
    }));
    assert.deepEqual(parts, [
      { id: 'metrics.`val loss`', key: 'val loss', cmp: '<=', value: '1e-3', quoted: true },
      { id: 'params.lr', key: 'lr', cmp: 'IN', value: "('0.1', '0.2')", quoted: false },
      { id: 'tags.mlflow.runName', key: 'mlflow.runName', cmp: '!=', value: "'x'", quoted: false },
    ]);
  });

  it('parses NOT IN, IS [NOT] NULL, bare and double-quoted attributes, signed numbers', () => {
    const f = `"run_name" = 'a' and status NOT IN ('X') and params.p IS NOT NULL and tags.t is null and metrics.d > -2.5`;
    const { clauses, diagnostics } = parseFilterText(f, { nullChecks: true });
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      clauses.map((c) => [c.identifier.entity, c.identifier.key, c.comparator, f.slice(c.comparatorRange.start, c.comparatorRange.end)]),
      [
        [null, 'run_name', '=', '='],
        [null, 'status', 'NOT IN', 'NOT IN'],
        ['params', 'p', 'IS NOT NULL', 'IS NOT NULL'],
        ['tags', 't', 'IS NULL', 'is null'],
        ['metrics', 'd', '>', '>'],
      ],
    );
  });

  const errors: [string, [string, string][], string][] = [
    ['metrics.acc >', [['syntax', '']], 'expected a value: a quoted string or a number, but the filter ended'],
    ['metrics.acc == 1', [['syntax', '==']], "invalid comparator '=='"],
    ["params.p = 'open", [['syntax', "'open"]], 'unterminated string'],
    ['metrics.`open = 1', [['syntax', '`open = 1'], ['syntax', '']], 'unterminated backtick identifier'],
    ['metrics.acc # 1', [['syntax', '#'], ['syntax', '1']], "unexpected character '#'"],
    ["params.p NOT LIKE 'x'", [['syntax', 'LIKE']], "expected IN after NOT (only 'NOT IN' is supported)"],
    ["params.p IN ('x' 'y')", [['syntax', "'y'"]], "expected ',' or ')' in the list"],
    ["params.p IN ('x', 1)", [['syntax', '1']], 'expected a quoted string in the list'],
    ["'quoted' = 1", [['syntax', "'quoted'"]], 'expected an identifier, not a string'],
    ['metrics. > 1', [['syntax', '.']], 'expected a comparator'],
    ['metrics.acc > 1 and', [['syntax', '']], 'expected an identifier such as metrics.accuracy'],
    ["params.p IS 'x'", [['syntax', "'x'"]], 'expected NULL or NOT NULL after IS'],
  ];
  for (const [filter, expected, message] of errors) {
    it(`reports ${JSON.stringify(filter)} at the right place`, () => {
      const { diagnostics } = parseFilterText(filter, { nullChecks: true });
      assert.deepEqual(spans(filter, diagnostics), expected);
      assert.ok(diagnostics[0]!.message.startsWith(message), diagnostics[0]!.message);
      assert.match(diagnostics[0]!.mlflowMessage!, /^Invalid filter string '.*': .* at position \d+/);
    });
  }

  it('recovers: two broken clauses give two diagnostics and the good clauses survive', () => {
    const f = "metrics.a >> 1 and params.p = 'ok' and tags.t LIKE and metrics.b < 2";
    const { clauses, diagnostics } = parseFilterText(f);
    assert.deepEqual(spans(f, diagnostics), [
      ['syntax', '>'],
      ['syntax', 'and'],
    ]);
    assert.deepEqual(
      clauses.map((c) => c.identifier.key),
      ['p', 'b'],
    );
  });

  it('reads OR as AND after saying so, and a missing AND before the next clause', () => {
    const f = "metrics.a > 1 OR metrics.b < 2 params.c = 'x'";
    const { clauses, diagnostics } = parseFilterText(f);
    assert.deepEqual(spans(f, diagnostics), [
      ['syntax', 'OR'],
      ['syntax', 'params'],
    ]);
    assert.equal(diagnostics[0]!.suggestion, 'AND');
    assert.deepEqual(
      clauses.map((c) => c.identifier.key),
      ['a', 'b', 'c'],
    );
  });

  it('keeps the first error the old parser threw as the one the server reports (lexical errors first)', () => {
    const f = "metrics.a >> 1 and params.p = 'open";
    const parsed = parseFilterText(f);
    assert.equal(parsed.diagnostics.length, 2);
    assert.equal(parsed.firstError!.message, 'unterminated string');
  });

  it('parses order_by items with their errors', () => {
    assert.deepEqual(parseOrderByText('metrics.acc DESC').orderBy?.ascending, false);
    assert.deepEqual(spans('metrics.acc DOWN', parseOrderByText('metrics.acc DOWN').diagnostics), [['syntax', 'DOWN']]);
    assert.deepEqual(spans('metrics.acc DESC x y', parseOrderByText('metrics.acc DESC x y').diagnostics), [['syntax', 'x y']]);
  });
});

describe('filter checker', () => {
  const runs = VOCABULARIES.runs;
  const known = { metrics: new Set(['accuracy', 'val_accuracy', 'loss']), params: new Set(['lr', 'model']), tags: new Set(['team']) };

  it('says a bare metric name needs its prefix: accuracy > 0.9 → metrics.accuracy', () => {
    const [d] = checkFilter(runs, 'accuracy > 0.9', known).diagnostics;
    assert.equal(d!.code, 'unknown-attribute');
    assert.equal(d!.suggestion, 'metrics.accuracy');
    assert.match(d!.message, /did you mean `metrics\.accuracy`\?/);
    assert.equal(describeDiagnostic(d!), "Error at column 1: 'accuracy' is not an attribute of runs: did you mean `metrics.accuracy`?");
    // Without store knowledge, the value's type picks the prefix.
    assert.equal(checkFilter(runs, 'accuracy > 0.9').diagnostics[0]!.suggestion, 'metrics.accuracy');
    assert.equal(checkFilter(runs, "optimizer = 'adam'").diagnostics[0]!.suggestion, 'params.optimizer');
    assert.equal(checkFilter(runs, "stauts = 'FINISHED'").diagnostics[0]!.suggestion, 'status');
  });

  it('flags comparators, value types, prefixes and unknown keys with ranges', () => {
    const f = "metrics.acc LIKE 'x' and params.lr > 0.1 and foo.k = 'v' and metrics.val_acc > 1 and datasets.schema = 'x'";
    const { diagnostics } = checkFilter(runs, f, known);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, f.slice(d.start, d.end), d.severity]),
      [
        ['unknown-key', 'acc', 'warning'],
        ['comparator', 'LIKE', 'error'],
        ['value-type', "'x'", 'error'],
        ['comparator', '>', 'error'],
        ['value-type', '0.1', 'error'],
        ['unknown-entity', 'foo', 'error'],
        ['unknown-key', 'val_acc', 'warning'],
        ['unknown-attribute', 'schema', 'error'],
      ],
    );
    assert.match(diagnostics[0]!.message, /did you mean `metrics\.accuracy`/);
    assert.match(diagnostics[6]!.message, /did you mean `metrics\.val_accuracy`/);
    assert.match(diagnostics[4]!.message, /quote the value, '0\.1'/);
  });

  it("says metrics compare to numbers, offering the number of a quoted one: metrics.acc > '0.9' → 0.9", () => {
    const [d] = checkFilter(runs, "metrics.accuracy > '0.9'", known).diagnostics;
    assert.equal(d!.code, 'value-type');
    assert.equal(d!.suggestion, '0.9');
  });

  it('checks order_by items: orderable attributes, prefixes, known keys', () => {
    assert.deepEqual(checkOrderBy(runs, 'metrics.loss DESC', known).diagnostics, []);
    assert.equal(checkOrderBy(runs, 'datasets.name', known).diagnostics[0]!.code, 'not-orderable');
    assert.equal(checkOrderBy(runs, 'start_tme', known).diagnostics[0]!.suggestion, 'start_time');
    assert.equal(checkOrderBy(VOCABULARIES.experiments, 'metrics.x').diagnostics[0]!.code, 'unknown-entity');
  });

  it('checks the identifier of a clause broken further on', () => {
    const { diagnostics } = checkFilter(runs, 'metrics.losss >', known);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['unknown-key', 'syntax'],
    );
  });

  it('quotes keys that need it and ranks near names', () => {
    assert.equal(formatIdentifier('metrics', 'val loss'), 'metrics.`val loss`');
    assert.equal(formatIdentifier('params', 'a.b'), 'params.`a.b`');
    assert.equal(formatIdentifier('params', 'lr'), 'params.lr');
    assert.deepEqual(closest('val_acc', ['val_accuracy', 'train_acc', 'vacc', 'zzz']), ['val_accuracy']);
    assert.deepEqual(closest('acuracy', ['accuracy']), ['accuracy']);
  });
});
