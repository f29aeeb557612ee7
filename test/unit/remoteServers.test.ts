import * as assert from 'node:assert/strict';
import { authHeaders, credentialEnv, invalidServerUrl, parsePublishOutput, parsePublishProgress, parseRemoteServers } from '../../src/extension/sources/remoteServerConfig';
import { formatPublishDetails, formatPublishSummary, type PublishSummary } from '../../src/backend/remote/publish/publishTypes';

describe('team MLflow servers: the setting, the auth header, publish output', () => {
  it('keeps well-formed entries and says why the others were skipped', () => {
    const { servers, skipped } = parseRemoteServers([
      { name: 'team', url: 'https://mlflow.example.com/', auth: 'basic', username: 'ana' },
      { name: 'open', url: 'http://10.0.0.2:5000' },
      { name: 'team', url: 'https://other' },
      { name: 'leaky', url: 'https://ana:pw@mlflow.example.com' },
      { name: 'nouser', url: 'https://x', auth: 'basic' },
      { name: 'odd', url: 'https://x', auth: 'kerberos' },
      { url: 'https://x' },
      'not an object',
    ]);
    assert.deepEqual(servers, [
      { name: 'team', url: 'https://mlflow.example.com', auth: 'basic', username: 'ana' },
      { name: 'open', url: 'http://10.0.0.2:5000', auth: 'none' },
    ]);
    assert.equal(skipped.length, 6);
    assert.match(skipped.join('\n'), /used twice[\s\S]*credentials out of the URL[\s\S]*needs a username[\s\S]*unknown auth 'kerberos'/);
    assert.deepEqual(parseRemoteServers(undefined).servers, []);
  });

  it('rejects URLs that are not http(s) or carry credentials', () => {
    assert.equal(invalidServerUrl('https://mlflow.example.com'), undefined);
    assert.ok(invalidServerUrl('ftp://x'));
    assert.ok(invalidServerUrl('mlflow.example.com'));
    assert.ok(invalidServerUrl('https://u:p@x'));
  });

  it('builds the Authorization header and the client environment from the secret', () => {
    const basic = { name: 't', url: 'https://x', auth: 'basic' as const, username: 'ana' };
    assert.deepEqual(authHeaders(basic, 'pä:ss'), { Authorization: `Basic ${Buffer.from('ana:pä:ss').toString('base64')}` });
    assert.deepEqual(authHeaders({ name: 't', url: 'https://x', auth: 'bearer' }, 'tok'), { Authorization: 'Bearer tok' });
    assert.deepEqual(authHeaders({ name: 't', url: 'https://x', auth: 'none' }, 'ignored'), {});
    assert.deepEqual(authHeaders(basic, undefined), {});
    assert.deepEqual(credentialEnv(basic, 'pw'), { MLFLOW_TRACKING_USERNAME: 'ana', MLFLOW_TRACKING_PASSWORD: 'pw' });
    assert.deepEqual(credentialEnv({ name: 't', url: 'https://x', auth: 'bearer' }, 'tok'), { MLFLOW_TRACKING_TOKEN: 'tok' });
  });

  it('reads back what runlens publish prints', () => {
    const s: PublishSummary = { runs: { created: 2, updated: 1, unchanged: 4 }, metricPoints: 10, artifacts: 1, bytes: 5, models: 0, traces: 0, experiments: { created: 1, existing: 0 }, conflicts: ["experiment 'x' exists"] };
    const out = [formatPublishSummary(s), ...formatPublishDetails(s)].join('\n') + '\n';
    const parsed = parsePublishOutput(out);
    assert.deepEqual({ ...parsed, summary: undefined }, { created: 2, updated: 1, unchanged: 4, conflicts: ["experiment 'x' exists"], summary: undefined });
    assert.equal(parsePublishOutput('something else'), undefined);
    assert.deepEqual(parsePublishProgress('  3/10 runs, 5 metric points, 0 artifacts, 0 bytes'), { done: 3, total: 10 });
    assert.equal(parsePublishProgress('publishing x to y'), undefined);
  });
});
