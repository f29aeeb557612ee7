import * as assert from 'node:assert/strict';
import { remoteServerUrl, terminalEnvironment } from '../../src/extension/terminal/terminalEnvironment';

describe('terminal environment: the workspace store or a team server', () => {
  const base = { inject: true, localUrl: 'http://127.0.0.1:5001', trackingServer: '', defaultExperiment: '' };

  it('points terminals at the workspace server by default', () => {
    assert.deepEqual(terminalEnvironment(base)?.vars, { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5001' });
  });

  it('points them at the team server when one is set, even before the local server is up', () => {
    const env = terminalEnvironment({ ...base, localUrl: undefined, trackingServer: ' https://mlflow.team.example/ ', defaultExperiment: 'sweep' });
    assert.deepEqual(env?.vars, { MLFLOW_TRACKING_URI: 'https://mlflow.team.example', MLFLOW_EXPERIMENT_NAME: 'sweep' });
    assert.match(env!.description, /trackingServer/);
  });

  it('never puts credentials in the environment: a URL with a user or password is not used', () => {
    assert.equal(remoteServerUrl('https://alice:secret@mlflow.team.example'), undefined);
    const env = terminalEnvironment({ ...base, trackingServer: 'https://alice:secret@mlflow.team.example' });
    assert.equal(env?.vars.MLFLOW_TRACKING_URI, 'http://127.0.0.1:5001');
    assert.doesNotMatch(JSON.stringify(env), /secret/);
  });

  it('ignores what is not an http(s) URL, and sets nothing when injection is off', () => {
    assert.equal(remoteServerUrl('sqlite:///mlflow.db'), undefined);
    assert.equal(remoteServerUrl('not a url'), undefined);
    assert.equal(terminalEnvironment({ ...base, inject: false, trackingServer: 'http://x:5000' }), undefined);
    assert.equal(terminalEnvironment({ ...base, localUrl: undefined }), undefined);
  });
});
