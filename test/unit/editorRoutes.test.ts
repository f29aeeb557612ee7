import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { call, startTestServer, type TestServer } from './helpers';

const A = '/api/2.0/mlflow';

/** Reads server-sent events until `count` data events arrived. */
function readEvents(url: string, count: number, onOpen: () => void): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const events: unknown[] = [];
    const req = http.get(url, (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /text\/event-stream/);
      let buf = '';
      let opened = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        if (!opened && buf.includes(': connected')) {
          opened = true;
          onOpen();
        }
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n')) if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
          if (events.length >= count) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
    });
    req.on('error', reject);
  });
}

describe('editor routes: launch contexts and the change feed', () => {
  let t: TestServer;
  let base: string;
  before(async () => {
    t = await startTestServer();
    base = t.server.url;
  });
  after(async () => {
    await t.close();
  });

  it('tags runs created through a launch prefix; client tags win; bare paths are untouched', async () => {
    const reg = await call(base, 'POST', '/runlens/api/launches', { tags: [{ key: 'runlens.launch.command', value: 'python train.py' }, { key: 'team', value: 'launch' }] });
    assert.equal(reg.status, 200);
    const id = String(reg.body.launch_id);
    assert.match(id, /^[a-f0-9]{32}$/);
    const viaLaunch = await call(base, 'POST', `/runlens/launch/${id}${A}/runs/create`, { experiment_id: '0', tags: [{ key: 'team', value: 'client' }] });
    assert.equal(viaLaunch.status, 200);
    const tags = Object.fromEntries(((viaLaunch.body.run as { data: { tags: { key: string; value: string }[] } }).data.tags).map((x) => [x.key, x.value]));
    assert.equal(tags['runlens.launch.command'], 'python train.py');
    assert.equal(tags.team, 'client');
    assert.equal(tags['runlens.launch.id'], id);
    // Every other route answers under the prefix too (the client keeps it for all calls).
    const runId = (viaLaunch.body.run as { info: { run_id: string } }).info.run_id;
    const got = await call(base, 'GET', `/runlens/launch/${id}${A}/runs/get?run_id=${runId}`);
    assert.equal(got.status, 200);
    const bare = await call(base, 'POST', `${A}/runs/create`, { experiment_id: '0' });
    const bareTags = (bare.body.run as { data: { tags: { key: string }[] } }).data.tags.map((x) => x.key);
    assert.ok(!bareTags.includes('runlens.launch.command'));
    // An unknown launch (e.g. registered before a server restart) still routes, without tags.
    const unknown = await call(base, 'POST', `/runlens/launch/deadbeef${A}/runs/create`, { experiment_id: '0' });
    assert.equal(unknown.status, 200);
  });

  it('refuses a malformed launch registration with an MLflow error', async () => {
    const bad = await call(base, 'POST', '/runlens/api/launches', { tags: [{ value: 'x' }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
  });

  it('streams run changes to subscribers as server-sent events', async () => {
    let runId = '';
    const events = await readEvents(`${base}/runlens/api/changes`, 2, () => {
      void (async () => {
        const created = await call(base, 'POST', `${A}/runs/create`, { experiment_id: '0' });
        runId = (created.body.run as { info: { run_id: string } }).info.run_id;
        await call(base, 'POST', `${A}/runs/log-metric`, { run_id: runId, key: 'loss', value: 1, timestamp: 1, step: 0 });
      })();
    });
    assert.deepEqual(events[0], { kind: 'run', runId, experimentId: '0', created: true });
    assert.deepEqual(events[1], { kind: 'run', runId, experimentId: '0' });
  });
});
