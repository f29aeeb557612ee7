import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkMlflow, fallbackInterpreter, fromPythonExtensionApi, missingMlflowMessage, pipInstallCommand } from '../../src/extension/terminal/interpreterChoice';
import { tempRoot } from './helpers';

const REAL_PYTHON = path.resolve(__dirname, '../../../.venv/latest/bin/python');

function fakeEnv(root: string, dir: string): string {
  const exe = path.join(root, dir, 'bin', 'python');
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.writeFileSync(exe, `#!/bin/sh\nexec ${REAL_PYTHON} "$@"\n`, { mode: 0o755 });
  return exe;
}

describe('launch interpreter choice', () => {
  it('reads the Python extension API defensively: environments first, then execution details', async () => {
    const ws = tempRoot();
    const exe = fakeEnv(ws, 'picked');
    // environments.getActiveEnvironmentPath may name the env folder rather than the binary
    assert.deepEqual(await fromPythonExtensionApi({ ready: Promise.resolve(), environments: { getActiveEnvironmentPath: () => ({ id: 'x', path: path.join(ws, 'picked') }) } }, undefined), { command: exe, prefixArgs: [], source: 'python-extension' });
    assert.deepEqual(
      await fromPythonExtensionApi({ environments: { getActiveEnvironmentPath: () => ({ id: 'x', path: 'nowhere' }), resolveEnvironment: async () => ({ executable: { uri: { fsPath: exe } } }) } }, undefined),
      { command: exe, prefixArgs: [], source: 'python-extension' },
    );
    assert.deepEqual(await fromPythonExtensionApi({ settings: { getExecutionDetails: () => ({ execCommand: ['conda', 'run', '-n', 'x', 'python'] }) } }, undefined), { command: 'conda', prefixArgs: ['run', '-n', 'x', 'python'], source: 'python-extension' });
    // nothing usable: absent API, a throwing one, the bare "python" placeholder, a wrong shape
    for (const exports of [undefined, 42, {}, { environments: { getActiveEnvironmentPath: () => { throw new Error('boom'); } } }, { settings: { getExecutionDetails: () => ({ execCommand: ['python'] }) } }, { settings: { getExecutionDetails: () => ({ execCommand: 'python' }) } }]) {
      assert.equal(await fromPythonExtensionApi(exports, undefined), undefined, JSON.stringify(exports));
    }
  });

  it('falls back to the setting, then a workspace venv (.venv, venv, env), then python3', () => {
    const ws = tempRoot();
    assert.deepEqual(fallbackInterpreter('', ws), { command: 'python3', prefixArgs: [], source: 'path' });
    const env = fakeEnv(ws, 'env');
    assert.equal(fallbackInterpreter('', ws).command, env);
    const venv = fakeEnv(ws, 'venv');
    assert.equal(fallbackInterpreter('', ws).command, venv);
    const dotVenv = fakeEnv(ws, '.venv');
    assert.deepEqual(fallbackInterpreter('', ws), { command: dotVenv, prefixArgs: [], source: 'workspace-venv' });
    assert.deepEqual(fallbackInterpreter('/opt/py/bin/python', ws), { command: '/opt/py/bin/python', prefixArgs: [], source: 'setting' });
  });

  it('tells an interpreter with mlflow from one without, and from one that does not start', async function () {
    this.timeout(30_000);
    assert.deepEqual(await checkMlflow({ command: REAL_PYTHON, prefixArgs: [], source: 'setting' }, tempRoot()), { kind: 'ok' });
    // -I ignores the environment; -S skips site-packages, where mlflow would be
    const bare = { command: REAL_PYTHON, prefixArgs: ['-I', '-S'], source: 'setting' as const };
    assert.deepEqual(await checkMlflow(bare, tempRoot()), { kind: 'missing' });
    const gone = await checkMlflow({ command: path.join(tempRoot(), 'no-python'), prefixArgs: [], source: 'setting' }, tempRoot());
    assert.equal(gone.kind, 'noInterpreter');
    assert.match(missingMlflowMessage(bare), /mlflow is not installed in .*python -I -S \(chosen from the "runlens.python.path" setting\)/);
    assert.equal(pipInstallCommand({ command: '/a b/python', prefixArgs: [], source: 'workspace-venv' }, (s) => (s.includes(' ') ? `'${s}'` : s)), "'/a b/python' -m pip install mlflow");
  });
});
