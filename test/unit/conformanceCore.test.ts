import * as assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from './helpers';

const A = '/api/2.0/mlflow';

/** Each behaviour here was first checked against a real `mlflow server` (3.17.2). */
describe('MLflow conformance: HTTP semantics', () => {
  let t: TestServer;
  let base: string;
  before(async () => {
    t = await startTestServer();
    base = t.server.url;
  });
  after(async () => {
    await t.close();
  });

  describe('HEAD', () => {
    it('answers HEAD / with 200 text/html, as MLflow', async () => {
      const res = await call(base, 'HEAD', '/');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.text, '');
    });

    it('answers HEAD on every GET route with the GET status and headers, without a body', async () => {
      for (const route of ['/health', '/version', `${A}/experiments/get?experiment_id=0`, `/ajax-api/2.0/mlflow/experiments/get?experiment_id=0`]) {
        const get = await call(base, 'GET', route);
        const head = await call(base, 'HEAD', route);
        assert.equal(head.status, get.status, route);
        assert.equal(head.text, '', route);
        assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), route);
        assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(get.text)), route);
      }
      const missing = await call(base, 'HEAD', `${A}/experiments/get?experiment_id=12345`);
      assert.equal(missing.status, 404);
      assert.equal(missing.text, '');
    });

    it('answers HEAD on an artifact download without sending the file', async () => {
      const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt`, { method: 'PUT', body: 'hello' });
      assert.equal(put.status, 200);
      const head = await call(base, 'HEAD', '/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt');
      assert.equal(head.status, 200);
      assert.equal(head.text, '');
      assert.equal(head.headers.get('content-length'), '5');
    });

    it('keeps 405 for POST-only routes and 404 for unknown paths', async () => {
      assert.equal((await call(base, 'HEAD', `${A}/runs/create`)).status, 405);
      assert.equal((await call(base, 'HEAD', '/no/such/path')).status, 404);
    });
  });

  describe('request validation', () => {
    const DOCS = ' See the API docs for more information about request parameters.';
    const typeError = (value: string, name: string, type: string): string => `Invalid value ${value} for parameter '${name}' supplied:  Hint: Value was of type '${type}'.${DOCS}`;
    let run: string;
    let exp: string;
    before(async () => {
      exp = (await call(base, 'POST', `${A}/experiments/create`, { name: 'validation' })).body.experiment_id as string;
      run = ((await call(base, 'POST', `${A}/runs/create`, { experiment_id: exp })).body.run as { info: { run_id: string } }).info.run_id;
    });

    async function expect400(method: string, route: string, body: unknown, message: string): Promise<void> {
      const res = await call(base, method, route, body);
      assert.deepEqual([res.status, res.body.error_code, res.body.message], [400, 'INVALID_PARAMETER_VALUE', message], `${method} ${route} ${JSON.stringify(body)}`);
    }

    it('refuses a value of the wrong JSON type before any lookup, with MLflow\'s message', async () => {
      await expect400('POST', `${A}/runs/log-metric`, { run_id: 31, key: 'm', value: 1, timestamp: 1 }, typeError('31', 'run_id', 'int'));
      await expect400('POST', `${A}/runs/log-metric`, { run_id: run, key: 123, value: 1, timestamp: 1 }, typeError('123', 'key', 'int'));
      await expect400('POST', `${A}/runs/log-metric`, { run_id: run, key: 'm', value: 'foo', timestamp: 1 }, typeError('"foo"', 'value', 'str'));
      await expect400('POST', `${A}/runs/log-metric`, { run_id: run, key: 'm', value: 1, timestamp: 'x' }, typeError('"x"', 'timestamp', 'str'));
      await expect400('POST', `${A}/runs/log-metric`, { run_id: run, key: 'm', value: 1, timestamp: 1, step: 's' }, typeError('"s"', 'step', 'str'));
      await expect400('POST', `${A}/runs/log-batch`, { run_id: 31 }, typeError('31', 'run_id', 'int'));
      await expect400('POST', `${A}/runs/log-batch`, { run_id: run, metrics: 'foo' }, typeError('"foo"', 'metrics', 'str'));
      await expect400('POST', `${A}/runs/log-batch`, { run_id: run, tags: { b: 1, a: 'é' } }, typeError('{"a":"\\u00e9","b":1}', 'tags', 'dict'));
      await expect400('POST', `${A}/runs/log-parameter`, { run_id: run, key: 'p', value: 5 }, typeError('5', 'value', 'int'));
      await expect400('POST', `${A}/runs/set-tag`, { run_id: run, key: 't', value: 5 }, typeError('5', 'value', 'int'));
      await expect400('POST', `${A}/runs/update`, { run_id: run, end_time: 'abc' }, typeError('"abc"', 'end_time', 'str'));
      await expect400('POST', `${A}/runs/delete`, { run_id: 31 }, typeError('31', 'run_id', 'int'));
      await expect400('POST', `${A}/runs/create`, { experiment_id: 0 }, typeError('0', 'experiment_id', 'int'));
      await expect400('POST', `${A}/experiments/create`, { name: 5 }, typeError('5', 'name', 'int'));
      await expect400('POST', `${A}/experiments/create`, { name: 'x', artifact_location: 5 }, typeError('5', 'artifact_location', 'int'));
      await expect400('POST', `${A}/runs/search`, { experiment_ids: exp }, typeError(`"${exp}"`, 'experiment_ids', 'str'));
      await expect400('POST', `${A}/runs/search`, { experiment_ids: [exp], max_results: 'x' }, typeError('"x"', 'max_results', 'str'));
      await expect400('POST', `${A}/runs/search`, { experiment_ids: [exp], filter: 5 }, typeError('5', 'filter', 'int'));
      await expect400('POST', `${A}/experiments/search`, { max_results: 'x' }, typeError('"x"', 'max_results', 'str'));
      const history = await call(base, 'GET', `${A}/metrics/get-history?run_id=${run}&metric_key=m`);
      assert.deepEqual(history.body, { metrics: [] }, 'nothing was logged by the refused requests');
    });

    it('accepts what proto-JSON accepts: numeric strings for int64 and double, true/false for a double', async () => {
      for (const body of [{ value: 1, timestamp: '5' }, { value: '2.5', timestamp: 6 }, { value: true, timestamp: 7 }]) {
        assert.equal((await call(base, 'POST', `${A}/runs/log-metric`, { run_id: run, key: 'ok', ...body })).status, 200, JSON.stringify(body));
      }
      const history = await call(base, 'GET', `${A}/metrics/get-history?run_id=${run}&metric_key=ok`);
      assert.deepEqual((history.body.metrics as { value: number; timestamp: number }[]).map((m) => [m.value, m.timestamp]), [[1, 5], [2.5, 6], [1, 7]]);
    });

    it('tells a malformed experiment id (400) from a missing one (404)', async () => {
      await expect400('GET', `${A}/experiments/get?experiment_id=abc`, undefined, "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.");
      await expect400('POST', `${A}/experiments/delete`, { experiment_id: 'abc' }, "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.");
      const missing = await call(base, 'GET', `${A}/experiments/get?experiment_id=-1`);
      assert.deepEqual([missing.status, missing.body.message], [404, 'No Experiment with id=-1 exists']);
    });

    it('answers metric history queries with MLflow\'s messages, and nothing (no error) for unknown runs', async () => {
      const bulk = `${A}/metrics/get-history-bulk-interval`;
      await expect400('GET', `${bulk}?metric_key=m`, undefined, `Missing value for required parameter 'run_ids'.${DOCS}`);
      const many = Array.from({ length: 101 }, (_, i) => `run_ids=r${i}`).join('&');
      await expect400('GET', `${bulk}?metric_key=m&${many}`, undefined, `GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.${DOCS}`);
      await expect400('GET', `${bulk}?run_ids=${run}`, undefined, `Missing value for required parameter 'metric_key'.${DOCS}`);
      await expect400('GET', `${bulk}?run_ids=${run}&metric_key=m&max_results=0`, undefined, `max_results must be between 1 and 2500.${DOCS}`);
      await expect400('GET', `${bulk}?run_ids=${run}&metric_key=m&max_results=x`, undefined, typeError('"x"', 'max_results', 'str'));
      await expect400('GET', `${bulk}?run_ids=${run}&metric_key=m&start_step=1`, undefined, 'If either start step or end step are specified, both must be specified.');
      await expect400('GET', `${bulk}?run_ids=${run}&metric_key=m&start_step=5&end_step=1`, undefined, 'end_step must be greater than start_step. Found start_step=5 and end_step=1.');
      assert.deepEqual((await call(base, 'GET', `${bulk}?run_ids=nope&metric_key=m`)).body, { metrics: [] });
      const legacy = '/ajax-api/2.0/mlflow/metrics/get-history-bulk';
      await expect400('GET', `${legacy}?metric_key=m`, undefined, 'GetMetricHistoryBulk request must specify at least one run_id.');
      await expect400('GET', `${legacy}?metric_key=m&${many.replace(/run_ids/g, 'run_id')}`, undefined, 'GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids.');
      await expect400('GET', `${legacy}?run_id=${run}`, undefined, 'GetMetricHistoryBulk request must specify a metric_key.');
      assert.deepEqual((await call(base, 'GET', `${legacy}?run_id=nope&metric_key=m`)).body, { metrics: [] });
      const history = await call(base, 'GET', `${A}/metrics/get-history?run_id=nope&metric_key=m`);
      assert.equal(history.status, 200);
      await expect400('GET', `${A}/metrics/get-history?run_id=${run}&metric_key=m&max_results=0`, undefined, "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer.");
    });

    it('answers a path that could escape the artifact root with exactly "Invalid path"', async () => {
      for (const route of [
        '/api/2.0/mlflow-artifacts/artifacts?path=../x',
        '/api/2.0/mlflow-artifacts/artifacts?path=a/../../x',
        `${A}/artifacts/list?run_id=${run}&path=../x`,
        `${A}/artifacts/list?run_id=${run}&path=a/../../x`,
      ]) {
        await expect400('GET', route, undefined, 'Invalid path');
      }
    });
  });

  describe('existence rules', () => {
    const fake = '0123456789abcdef0123456789abcdef';
    const identify = (source: string, owner: string): string =>
      `Invalid model version source: '${source}'. The ${owner} request parameter must identify the resource that contains the source.`;
    let exp: string;
    before(async () => {
      exp = (await call(base, 'POST', `${A}/experiments/create`, { name: 'existence' })).body.experiment_id as string;
      assert.equal((await call(base, 'POST', `${A}/registered-models/create`, { name: 'reg' })).status, 200);
    });

    it('creates a model version from a runs:/ source naming its run_id, without looking the run up', async () => {
      const source = `runs:/${fake}/model`;
      const res = await call(base, 'POST', `${A}/model-versions/create`, { name: 'reg', source, run_id: fake });
      assert.equal(res.status, 200, res.text);
      const mv = res.body.model_version as Record<string, unknown>;
      assert.deepEqual([mv.version, mv.source, mv.run_id, mv.status], ['1', source, fake, 'READY']);
      const uri = await call(base, 'GET', `${A}/model-versions/get-download-uri?name=reg&version=1`);
      assert.equal(uri.body.artifact_uri, source);
    });

    it('refuses a source the request does not identify, with MLflow\'s messages', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ source: `runs:/${fake}/model` }, identify(`runs:/${fake}/model`, 'run_id')],
        [{ source: `runs:/${fake}/model`, run_id: 'ffffffffffffffffffffffffffffffff' }, identify(`runs:/${fake}/model`, 'run_id')],
        [{ source: '/tmp/x', run_id: fake }, identify('/tmp/x', 'run_id')],
        [{ source: '/tmp/x', model_id: 'm-nope' }, identify('/tmp/x', 'model_id')],
        [{ source: 'models:/m-0123abcd' }, identify('models:/m-0123abcd', 'model_id')],
        [{ source: `mlflow-artifacts:/0/${fake}/artifacts/model`, run_id: fake }, identify(`mlflow-artifacts:/0/${fake}/artifacts/model`, 'run_id')],
      ];
      for (const [body, message] of cases) {
        const res = await call(base, 'POST', `${A}/model-versions/create`, { name: 'reg', ...body });
        assert.deepEqual([res.status, res.body.error_code, res.body.message], [400, 'INVALID_PARAMETER_VALUE', message], JSON.stringify(body));
      }
    });

    it('creates a logged model whose source_run_id names no run', async () => {
      const res = await call(base, 'POST', `${A}/logged-models`, { experiment_id: exp, name: 'lm', source_run_id: fake });
      assert.equal(res.status, 200, res.text);
      assert.equal((res.body.model as { info: { source_run_id: string } }).info.source_run_id, fake);
      const missingExp = await call(base, 'POST', `${A}/logged-models`, { experiment_id: '98765', name: 'lm' });
      assert.deepEqual([missingExp.status, missingExp.body.message], [404, 'No Experiment with id=98765 exists']);
    });
  });

  describe('experiment artifact locations', () => {
    async function locationOf(artifactLocation: string): Promise<string> {
      const created = await call(base, 'POST', `${A}/experiments/create`, { name: `loc-${Math.random()}`, artifact_location: artifactLocation });
      assert.equal(created.status, 200, created.text);
      const got = await call(base, 'GET', `${A}/experiments/get?experiment_id=${created.body.experiment_id as string}`);
      return (got.body.experiment as { artifact_location: string }).artifact_location;
    }

    it("makes a relative local location absolute against the server's working directory, as MLflow", async () => {
      const cwd = process.cwd().replace(/\/+$/, '');
      assert.equal(await locationOf('rel/dir'), `${cwd}/rel/dir`);
      assert.equal(await locationOf('./x//y/'), `${cwd}/x/y`);
      assert.equal(await locationOf('a/../b'), `${cwd}/a/../b`);
      assert.equal(await locationOf('file:rel'), `file://${cwd}/rel`);
      for (const kept of ['/abs/q', 'file:///abs/p', 'file://localhost/abs', 's3://b/k', 'mlflow-artifacts:/x']) assert.equal(await locationOf(kept), kept);
    });

    it('refuses fragments and runs:/ locations with MLflow\'s messages', async () => {
      for (const [loc, message] of [
        ['x#frag', "'artifact_location' URL can't include fragments or params."],
        ['runs:/abc/x', "Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/x'"],
      ]) {
        const res = await call(base, 'POST', `${A}/experiments/create`, { name: `bad-${Math.random()}`, artifact_location: loc });
        assert.deepEqual([res.status, res.body.error_code, res.body.message], [400, 'INVALID_PARAMETER_VALUE', message]);
      }
    });
  });
});
