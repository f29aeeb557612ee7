/**
 * Literal experiment references in a Python file — `search_runs(experiment_names=["churn"])`,
 * `search_runs(["3"])`, `set_experiment("churn")` — checked against the experiments the store
 * has: a name or id that matches no active experiment gets a warning (with did-you-mean), since a
 * search over it silently returns nothing and a filter's keys cannot be checked against it.
 */
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { closest } from '../filter/didYouMean';
import type { PyScan } from './pythonScan';
import type { StoreIndex } from './keyCache';
import { SOURCE } from './filterFeatures';

export function experimentRefDiagnostics(doc: TextDocument, scan: PyScan, index: StoreIndex | undefined): Diagnostic[] {
  if (!index) return [];
  const out: Diagnostic[] = [];
  const ids = new Set(index.experiments.map((e) => e.id));
  const names = index.experiments.map((e) => e.name);
  for (const ref of scan.experimentRefs) {
    const byId = ref.ids !== undefined;
    for (const tok of ref.tokens) {
      const value = tok.value!;
      if (byId ? ids.has(value) : names.includes(value)) continue;
      // set_experiment("new-name") creates the experiment: only searches must name existing ones.
      if (!byId && ref.creates) continue;
      const near = byId ? [] : closest(value, names);
      const what = byId ? `no active experiment has id '${value}'` : `no active experiment is named '${value}'`;
      out.push({
        range: { start: doc.positionAt(tok.start), end: doc.positionAt(tok.end) },
        severity: DiagnosticSeverity.Warning,
        source: SOURCE,
        code: 'unknown-experiment',
        message: `${what}${near.length ? `: did you mean '${near[0]}'?` : ''} (${index.experiments.length} experiment${index.experiments.length === 1 ? '' : 's'} in the store)`,
        ...(near[0] ? { data: { suggestion: near[0] } } : {}),
      });
    }
  }
  return out;
}
