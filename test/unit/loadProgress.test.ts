// A tree view's slow loads show progress after ~300 ms, fast ones never, and a slow node's load
// does not hold up another node's (a slow team server next to the workspace store).
import * as assert from 'node:assert/strict';
import type { TreeDataProvider, TreeItem } from 'vscode';
import { withLoadProgress } from '../../src/extension/tree/loadProgress';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tree load progress', () => {
  it('shows progress only for loads pending past 300 ms, each load on its own', async () => {
    const delays: Record<string, number> = { slow: 1200, fast: 50, failing: 500 };
    const provider: TreeDataProvider<string> = {
      getTreeItem: (e) => ({ label: e }) as TreeItem,
      getChildren: async (e) => {
        await sleep(delays[e ?? ''] ?? 0);
        if (e === 'failing') throw new Error('the server went away');
        return [`${e}-child`];
      },
      getParent: (e) => e.split('-')[0],
    };
    const shown: { at: number; loading: Promise<unknown> }[] = [];
    const t0 = Date.now();
    const tree = withLoadProgress(provider, (loading) => shown.push({ at: Date.now() - t0, loading }));

    const slow = Promise.resolve(tree.getChildren('slow'));
    const fast = Promise.resolve(tree.getChildren('fast'));
    assert.deepEqual(await fast, ['fast-child']);
    assert.ok(Date.now() - t0 < 400, 'the fast source answered while the slow one still loads');
    assert.equal(shown.length, 0, 'nothing shown for a fast load');
    await sleep(350);
    assert.equal(shown.length, 1, 'the slow load shows progress');
    assert.ok(shown[0]!.at >= 295 && shown[0]!.at < 600, `shown after ${shown[0]!.at} ms`);
    assert.deepEqual(await slow, ['slow-child']);
    await shown[0]!.loading; // the progress ends with the load

    // A failing slow load still ends its progress (and the view gets the error as before).
    await assert.rejects(Promise.resolve(tree.getChildren('failing')), /went away/);
    assert.equal(shown.length, 2);
    assert.equal(await shown[1]!.loading, undefined);
    assert.equal(tree.getParent!('slow-child'), 'slow');
  });
});
