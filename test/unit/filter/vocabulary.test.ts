// The vocabularies (src/filter/vocabulary.ts) are data the editor and views check filters with;
// the server's search compilers decide for real. This test holds them together: for every
// attribute and prefix of every search, every comparator and value type, the checker finds no
// problem exactly when the compiler accepts the clause.
import * as assert from 'node:assert/strict';
import { MlflowError } from '../../../src/domain/errors';
import { checkFilter, checkOrderBy } from '../../../src/filter/filterCheck';
import type { Comparator } from '../../../src/filter/filterAst';
import { VOCABULARIES, type SearchKind } from '../../../src/filter/vocabulary';
import { compileRunSearch } from '../../../src/store/search/runSearch';
import { compileExperimentSearch } from '../../../src/store/search/experimentSearch';
import { compileEntityFilter, compileEntityOrder } from '../../../src/store/search/entitySearch';
import { compileTraceFilter, compileTraceOrder } from '../../../src/store/traces/traceSearch';
import { REGISTERED_MODEL_ORDER, REGISTERED_MODEL_SEARCH, VERSION_ORDER, VERSION_SEARCH } from '../../../src/store/models/registry';
import { SEARCH_SPEC as LOGGED_MODEL_SEARCH } from '../../../src/store/models/loggedModels';

const COMPARATORS: Comparator[] = ['=', '!=', '<', '<=', '>', '>=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

const compilers: Record<SearchKind, { filter(f: string): void; order?(o: string): void }> = {
  runs: {
    filter: (f) => compileRunSearch({ experimentIds: [1], filter: f, viewType: 'ACTIVE_ONLY', limit: 1, offset: 0 }),
    order: (o) => compileRunSearch({ experimentIds: [1], orderBy: [o], viewType: 'ACTIVE_ONLY', limit: 1, offset: 0 }),
  },
  experiments: {
    filter: (f) => compileExperimentSearch({ filter: f, viewType: 'ACTIVE_ONLY', limit: 1, offset: 0 }),
    order: (o) => compileExperimentSearch({ orderBy: [o], viewType: 'ACTIVE_ONLY', limit: 1, offset: 0 }),
  },
  registeredModels: { filter: (f) => compileEntityFilter(REGISTERED_MODEL_SEARCH, f, []), order: (o) => compileEntityOrder('registered models', [o], REGISTERED_MODEL_ORDER) },
  modelVersions: { filter: (f) => compileEntityFilter(VERSION_SEARCH, f, []), order: (o) => compileEntityOrder('model versions', [o], VERSION_ORDER) },
  loggedModels: { filter: (f) => compileEntityFilter(LOGGED_MODEL_SEARCH, f, []) },
  traces: { filter: (f) => compileTraceFilter(f, []), order: (o) => compileTraceOrder([o]) },
};

function accepts(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof MlflowError) return false;
    throw err;
  }
}

const valueFor = (c: Comparator, kind: 'string' | 'number'): string => (c === 'IN' || c === 'NOT IN' ? "('a', 'b')" : kind === 'number' ? '1' : "'1'");

for (const [kind, vocab] of Object.entries(VOCABULARIES) as [SearchKind, (typeof VOCABULARIES)[SearchKind]][]) {
  describe(`filter vocabulary of ${kind} agrees with its compiler`, () => {
    const identifiers: string[] = [];
    for (const [name, word] of Object.entries(vocab.attributes)) identifiers.push(name, ...(word.aliases ?? []).map((a) => (/\s/.test(a) ? `\`${a}\`` : a)));
    for (const e of vocab.entities) for (const n of e.names) identifiers.push(...(e.fixedKeys ?? ['k']).map((k) => `${n}.${k}`), ...(e.keyPrefixes ?? []).map((p) => `${n}.${p}k`));
    identifiers.push('bogus', 'bogus.k');
    for (const id of identifiers) {
      it(`${id}: every comparator and value type`, () => {
        const disagreements: string[] = [];
        for (const c of COMPARATORS) {
          for (const v of ['string', 'number'] as const) {
            const filter = `${id} ${c} ${valueFor(c, v)}`;
            const compiled = accepts(() => compilers[kind].filter(filter));
            const { diagnostics } = checkFilter(vocab, filter);
            const checked = diagnostics.filter((d) => d.severity === 'error').length === 0;
            if (compiled !== checked) disagreements.push(`${filter}: compiler ${compiled ? 'accepts' : 'rejects'}, checker ${checked ? 'accepts' : `says ${diagnostics.map((d) => d.message).join('; ')}`}`);
          }
        }
        assert.deepEqual(disagreements, []);
      });
    }
    const order = compilers[kind].order;
    if (order) {
      it('order_by: every attribute and prefix', () => {
        const disagreements: string[] = [];
        const items = [...Object.keys(vocab.attributes), ...vocab.orderable, 'bogus', ...vocab.entities.map((e) => `${e.names[0]}.k`)];
        for (const item of items) {
          const compiled = accepts(() => order(`${item} DESC`));
          const checked = checkOrderBy(vocab, `${item} DESC`).diagnostics.length === 0;
          if (compiled !== checked) disagreements.push(`${item}: compiler ${compiled ? 'accepts' : 'rejects'}, checker ${checked ? 'accepts' : 'rejects'}`);
        }
        assert.deepEqual(disagreements, []);
      });
    }
  });
}
