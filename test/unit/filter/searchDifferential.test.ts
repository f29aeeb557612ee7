// The differential test of the recovering parser: every filter and order_by item of the corpus
// gives the same clauses, the same compiled SQL and the same MLflow error message as the parser
// it replaced (filterGolden.json). `RECORD_FILTER_GOLDEN=1` rewrites the file — only when a
// change of the server's searches is intended.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FILTERS, ORDER_BYS } from './filterCorpus';
import { filterOutcomes, orderOutcomes } from './searchOutcomes';

const GOLDEN = path.resolve(__dirname, '../../../../test/unit/filter/filterGolden.json');

describe('filter parser: differential against the recorded searches', () => {
  const current = { filters: Object.fromEntries(FILTERS.map((f) => [f, filterOutcomes(f)])), orderBy: Object.fromEntries(ORDER_BYS.map((o) => [o, orderOutcomes(o)])) };
  if (process.env.RECORD_FILTER_GOLDEN === '1') fs.writeFileSync(GOLDEN, `${JSON.stringify(current, null, 1)}\n`);
  const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as typeof current;

  it('covers the whole corpus', () => {
    assert.deepEqual(Object.keys(golden.filters).sort(), [...FILTERS].sort());
    assert.deepEqual(Object.keys(golden.orderBy).sort(), [...ORDER_BYS].sort());
  });
  for (const f of FILTERS) {
    it(`filter ${JSON.stringify(f)}`, () => assert.deepEqual(current.filters[f], golden.filters[f]));
  }
  for (const o of ORDER_BYS) {
    it(`order_by ${JSON.stringify(o)}`, () => assert.deepEqual(current.orderBy[o], golden.orderBy[o]));
  }
});
