import * as assert from 'node:assert/strict';
import { MlflowError } from '../../src/domain/errors';
import { parseFilter, parseOrderBy } from '../../src/filter/filterParser';

function parseError(filter: string): MlflowError {
  try {
    parseFilter(filter);
  } catch (err) {
    assert.ok(err instanceof MlflowError, `expected MlflowError, got ${String(err)}`);
    assert.equal(err.errorCode, 'INVALID_PARAMETER_VALUE');
    return err;
  }
  assert.fail(`expected '${filter}' to be rejected`);
}

describe('filter parser', () => {
  it('parses entity.key comparisons joined by AND, case-insensitively', () => {
    const clauses = parseFilter("metrics.acc > 0.5 and params.model = 'rf' AND tags.team LIKE 'ml%'");
    assert.deepEqual(
      clauses.map((c) => [c.identifier.entity, c.identifier.key, c.comparator, c.value.value]),
      [
        ['metrics', 'acc', '>', 0.5],
        ['params', 'model', '=', 'rf'],
        ['tags', 'team', 'LIKE', 'ml%'],
      ],
    );
  });

  it('splits on the first dot only, so system tags keep their dots', () => {
    const [c] = parseFilter("tags.mlflow.runName = 'x'");
    assert.equal(c!.identifier.entity, 'tags');
    assert.equal(c!.identifier.key, 'mlflow.runName');
  });

  it('accepts backticked and double-quoted keys with spaces and dots', () => {
    const clauses = parseFilter('metrics.`val loss` <= 1e-3 AND params."my.param" != \'a\' AND `tags`.`x y` ILIKE \'%Q%\'');
    assert.deepEqual(
      clauses.map((c) => [c.identifier.entity, c.identifier.key, c.comparator]),
      [
        ['metrics', 'val loss', '<='],
        ['params', 'my.param', '!='],
        ['tags', 'x y', 'ILIKE'],
      ],
    );
    assert.equal(clauses[0]!.value.value, 0.001);
  });

  it('parses bare attributes, negative numbers and compact spacing', () => {
    const [a, b] = parseFilter("status='FINISHED' and metrics.delta>-2.5");
    assert.equal(a!.identifier.entity, null);
    assert.equal(a!.identifier.key, 'status');
    assert.equal(b!.value.value, -2.5);
  });

  it('parses IN and NOT IN lists', () => {
    const [a, b] = parseFilter("attributes.run_id IN ('a1', 'b2') AND attributes.run_id NOT IN ('c3')");
    assert.deepEqual(a!.value, { kind: 'list', value: ['a1', 'b2'] });
    assert.equal(b!.comparator, 'NOT IN');
  });

  it('keeps quotes inside strings', () => {
    const [c] = parseFilter("params.q = 'it''s' AND params.r = \"say \\\"hi\\\"\"");
    assert.equal(c!.value.value, "it's");
  });

  it('treats an empty or blank filter as no clauses', () => {
    assert.deepEqual(parseFilter(''), []);
    assert.deepEqual(parseFilter('   '), []);
    assert.deepEqual(parseFilter(undefined), []);
  });

  it('rejects OR with a message that names it and its position', () => {
    const err = parseError("metrics.a > 1 OR metrics.b > 2");
    assert.match(err.message, /'OR' is not supported/);
    assert.match(err.message, /position 14/);
  });

  it('points at the offending token', () => {
    assert.match(parseError("metrics.acc >> 0.5").message, /position 13 \(near '>'\)/);
    assert.match(parseError("metrics.acc == 0.5").message, /invalid comparator '=='/);
    assert.match(parseError("params.model = rf").message, /expected a value/);
    assert.match(parseError("params.model = 'rf").message, /unterminated string at position 15/);
    assert.match(parseError("metrics.acc > 0.5 AND").message, /but the filter ended/);
    assert.match(parseError("metrics.acc 0.5").message, /expected a comparator/);
    assert.match(parseError("params.a IN 'x'").message, /parenthesised list/);
    assert.match(parseError("params.a IN ('x' 'y')").message, /expected ',' or '\)'/);
    assert.match(parseError("(metrics.a > 1)").message, /expected an identifier/);
    assert.match(parseError("metrics.a > 1; DROP TABLE runs").message, /unexpected character ';'/);
  });

  it('never throws anything but an MlflowError on hostile input', () => {
    const pieces = ['metrics.', 'params.`', "'", '"', '(', ')', ',', 'AND', 'OR', 'NOT', 'IN', 'LIKE', '=', '!=', '<', '>', '0.5', '-', '.', ' ', '`x`', "'; --", '\\', '\u0000', '🙂', 'e9999'];
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const len = 1 + rand(8);
      for (let j = 0; j < len; j++) s += pieces[rand(pieces.length)];
      try {
        parseFilter(s);
      } catch (err) {
        assert.ok(err instanceof MlflowError, `input ${JSON.stringify(s)} threw ${String(err)}`);
      }
    }
  });

  it('parses order_by items with optional direction', () => {
    assert.deepEqual(
      [parseOrderBy('metrics.acc DESC'), parseOrderBy('start_time'), parseOrderBy('params.`a b` asc')].map((o) => [
        o.identifier.entity,
        o.identifier.key,
        o.ascending,
      ]),
      [
        ['metrics', 'acc', false],
        [null, 'start_time', true],
        ['params', 'a b', true],
      ],
    );
    assert.throws(() => parseOrderBy('metrics.acc DOWN'), /expected ASC or DESC/);
    assert.throws(() => parseOrderBy('metrics.acc ASC extra'), /too many tokens/);
  });
});
