// The explorer's sources, vscode-free parts: which store a node is in, and that a read-only
// store's context values leave out exactly the write actions of package.json's menus.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WireExperiment, WireRun } from '../../src/client/wireTypes';
import { readOnlyContextValue, sourceOf, WORKSPACE_SOURCE, type ExperimentNode, type RunNode } from '../../src/extension/tree/nodes';

// Publish is not a write to the store, but it is offered only on the workspace's own runs.
const WRITE = ['runlens.deleteRun', 'runlens.restoreRun', 'runlens.renameRun', 'runlens.setRunTag', 'runlens.editRunNote', 'runlens.logArtifact', 'runlens.renameExperiment', 'runlens.deleteExperiment', 'runlens.restoreExperiment', 'runlens.setDefaultExperiment', 'runlens.publishTo'];
const READ_RUN = ['runlens.openRun', 'runlens.openRunDocument', 'runlens.showCharts', 'runlens.diffRuns', 'runlens.copyRunId', 'runlens.copyRunUri'];

interface MenuEntry {
  command: string;
  when?: string;
}

function menus(): MenuEntry[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { contributes: { menus: Record<string, MenuEntry[]> } };
  return pkg.contributes.menus['view/item/context']!;
}

function offeredOn(contextValue: string): Set<string> {
  const out = new Set<string>();
  for (const m of menus()) {
    const re = /viewItem =~ \/(.*?)\/(?:\s|$)/.exec(m.when ?? '');
    if (re && new RegExp(re[1]!).test(contextValue)) out.add(m.command);
  }
  return out;
}

const exp = (source?: string): ExperimentNode => ({ type: 'experiment', experiment: { experiment_id: '1', name: 'e' } as WireExperiment, ...(source ? { source } : {}) });
const run = (parent: ExperimentNode | RunNode): RunNode => ({ type: 'run', run: { info: { run_id: 'r' } } as WireRun, parent, loadedChildren: [] });

describe('extension: explorer sources', () => {
  it('finds the store of a node through its parents', () => {
    assert.equal(sourceOf(run(run(exp('/w/mlflow.db')))), '/w/mlflow.db');
    assert.equal(sourceOf(run(exp())), undefined);
    assert.equal(sourceOf({ type: 'source', key: WORKSPACE_SOURCE }), undefined);
    assert.equal(sourceOf({ type: 'message', message: 'x', parent: { type: 'source', key: '/w/mlruns' } }), '/w/mlruns');
  });

  for (const [value, kind] of [
    ['runlens.run;active;finished', 'run'],
    ['runlens.run;deleted;failed', 'run'],
    ['runlens.experiment;active', 'experiment'],
    ['runlens.experiment;deleted', 'experiment'],
  ] as const) {
    it(`a read-only ${value} offers no write action, and every read action it had`, () => {
      const before = offeredOn(value);
      const after = offeredOn(readOnlyContextValue(value)!);
      assert.ok(WRITE.some((c) => before.has(c)), `${value} offered no write action to begin with`);
      assert.deepEqual(WRITE.filter((c) => after.has(c)), []);
      assert.deepEqual([...before].filter((c) => !WRITE.includes(c)).sort(), [...after].sort());
      if (kind === 'run') for (const c of READ_RUN) assert.ok(after.has(c), c);
    });
  }
});
