// The poller that stands in for the change feed on a team server: an experiment or run that no
// longer answers (404, 403) does not hide changes elsewhere, and a view that moves to another
// server stops the first server's watch.
import * as assert from 'node:assert/strict';
import { ChangePoller, ViewWatches } from '../../src/ui/changePoller';
import type { ChangeEvent, WireRun } from '../../src/client/wireTypes';
import type { UiRequest } from '../../src/ui/protocol';

const run = (id: string, exp: string, loss: number): WireRun =>
  ({ info: { run_id: id, experiment_id: exp, status: 'RUNNING', start_time: 1, end_time: null }, data: { metrics: [{ key: 'loss', value: loss, timestamp: 1, step: 0 }], params: [], tags: [] } }) as unknown as WireRun;

function fakeServer() {
  const runs = new Map<string, WireRun[]>([['2', [run('r2', '2', 1)]]]);
  const gone = new Error('RESOURCE_DOES_NOT_EXIST');
  return {
    runs,
    client: {
      searchRuns: async (q: { experimentIds: string[] }) => {
        if (q.experimentIds[0] === '1') throw gone;
        return { runs: runs.get(q.experimentIds[0]!) ?? [] };
      },
      searchTraces: async () => ({ traces: [] }),
      getRun: async (id: string) => {
        if (id === 'deleted') throw gone;
        return run(id, '3', 0);
      },
    },
  };
}

describe('team server change poller', () => {
  it('keeps comparing the other experiments and runs when one of them fails', async () => {
    const server = fakeServer();
    const events: ChangeEvent[] = [];
    const poller = new ChangePoller(server.client as unknown as ConstructorParameters<typeof ChangePoller>[0], (e) => events.push(e), 60_000, 60_000);
    poller.watch(['1', '2'], ['deleted']);
    poller.dispose(); // drive the polls by hand
    assert.equal(await poller.poll(), 0, 'the first look only takes the baseline');
    server.runs.set('2', [run('r2', '2', 0.5)]);
    assert.equal(await poller.poll(), 1);
    assert.deepEqual(events, [{ kind: 'run', runId: 'r2', experimentId: '2' }]);
  });

  it('fails a poll only when nothing at all answered', async () => {
    const server = fakeServer();
    const poller = new ChangePoller(server.client as unknown as ConstructorParameters<typeof ChangePoller>[0], () => undefined, 60_000, 60_000);
    poller.watch(['1'], ['deleted']);
    poller.dispose();
    await assert.rejects(poller.poll(), /did not answer/);
  });

  it('drops the first server\'s watch when a view moves to another server', () => {
    const a = fakeServer();
    const b = fakeServer();
    const watches = new ViewWatches<string>(() => undefined, 60_000, 60_000);
    const req = { kind: 'runs', experimentIds: ['2'] } as unknown as UiRequest;
    watches.note('panel', 'remote:a', a.client as never, req);
    assert.ok(watches.pollerOf('remote:a'));
    watches.note('panel', 'remote:b', b.client as never, req);
    assert.equal(watches.pollerOf('remote:a'), undefined, 'nothing on server a is shown any more');
    assert.ok(watches.pollerOf('remote:b'));
    watches.dispose();
  });
});
