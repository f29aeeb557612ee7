// One reading of artifact URIs for client, server and store. The expected paths and hosts are
// what mlflow 3.17.2's MlflowArtifactsRepository.resolve_uri makes of each URI (tracking URI
// http://127.0.0.1:5000), so the three agree with the client that wrote the URI.
import * as assert from 'node:assert/strict';
import { parseProxyUri, proxyPath } from '../../src/domain/artifactUri';

const RESOLVED_BY_MLFLOW: [uri: string, host: string | undefined, path: string][] = [
  ['mlflow-artifacts:/1/abc/artifacts', undefined, '1/abc/artifacts'],
  ['mlflow-artifacts:', undefined, ''],
  ['mlflow-artifacts:/', undefined, ''],
  ['mlflow-artifacts:1/abc', undefined, '1/abc'],
  ['mlflow-artifacts:///1/abc/', undefined, '1/abc'],
  ['mlflow-artifacts://other:5001/1/abc', 'other:5001', '1/abc'],
  ['mlflow-artifacts://other:5001', 'other:5001', ''],
  ['mlflow-artifacts://user@h/1/a', 'user@h', '1/a'],
  ['mlflow-artifacts:/1//abc///x/', undefined, '1/abc/x'],
  ['MLFLOW-ARTIFACTS:/1/abc', undefined, '1/abc'],
  ['mlflow-artifacts:/1/a?x=1', undefined, '1/a'],
  ['mlflow-artifacts:/1/a#frag', undefined, '1/a'],
  ['mlflow-artifacts:/1/a;p', undefined, '1/a;p'],
  ['mlflow-artifacts:/api/2.0/mlflow-artifacts/artifacts', undefined, ''],
];

describe('artifact URIs (mlflow-artifacts: and the proxy route)', () => {
  it('reads mlflow-artifacts: URIs as the MLflow client resolves them', () => {
    for (const [uri, host, path] of RESOLVED_BY_MLFLOW) assert.deepEqual(parseProxyUri(uri), { host, path }, uri);
  });

  it('keeps a named host apart from the path (the path never starts with the host)', () => {
    assert.equal(proxyPath('mlflow-artifacts://localhost:5000/0/r/artifacts'), '0/r/artifacts');
  });

  it('reads http(s) URLs of the proxy route, and nothing else of http', () => {
    assert.deepEqual(parseProxyUri('http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/'), { host: 'h:5000', path: '1/r/artifacts' });
    assert.deepEqual(parseProxyUri('https://h/api/2.0/mlflow-artifacts/artifacts'), { host: 'h', path: '' });
    assert.equal(parseProxyUri('http://h/api/2.0/mlflow-artifacts/artifactsX/1'), undefined);
    assert.equal(parseProxyUri('http://h/files/1/r'), undefined);
  });

  it('answers undefined for stores the proxy does not serve', () => {
    for (const uri of ['s3://bucket/1/r/artifacts', 'file:///tmp/mlruns/1/r/artifacts', '/tmp/mlruns/1', 'runs:/abc/model', 'mlflow-artifactsx:/1']) {
      assert.equal(parseProxyUri(uri), undefined, uri);
    }
  });
});
