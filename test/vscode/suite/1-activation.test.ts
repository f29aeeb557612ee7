import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackendStartError, startOrAttach } from '../../../src/extension/backend/startOrAttach';
import type { Logger } from '../../../src/domain/logger';
import { readLockOwner } from '../../../src/store/storeLock';
import { CLI_PATH, python, report, runlens, runlensServe, runPython, waitFor, workspaceDir, writeScript } from './helpers';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('activation and the embedded server', () => {
  // First in the first suite: nothing has written to the workspace store yet.
  it('creates no store when the folder opens, and creates it on the first run', async () => {
    const api = await runlens();
    const state = api.service.state;
    assert.equal(state.kind, 'ready');
    if (state.kind !== 'ready') return;
    assert.equal(fs.existsSync(state.root), false, `opening the folder created ${state.root}`);
    assert.deepEqual(fs.readdirSync(workspaceDir()).filter((f) => f === 'mlruns' || f === '.runlens-store'), []);
    assert.equal(readLockOwner(state.root)?.pid, state.pid, 'the server is findable (pending lock) before the store exists');
    const experiments = (await api.service.client.listExperiments('ALL')).map((e) => e.name);
    assert.deepEqual(experiments, ['Default'], 'reads answer from the empty store');
    assert.equal(fs.existsSync(state.root), false, 'reads created nothing');
    const file = writeScript('first_run.py', 'import mlflow\nwith mlflow.start_run(run_name="first"):\n    mlflow.log_metric("x", 1.0)\n');
    await runPython(file, state.url);
    fs.rmSync(file);
    assert.ok(fs.existsSync(path.join(state.root, '.runlens', 'journal', '00000001.log')), 'the first run created the store');
    assert.equal(JSON.parse(fs.readFileSync(path.join(state.root, '.runlens', 'lock.json'), 'utf8')).pid, state.pid, 'and moved the lock into it');
    const runs = await api.service.client.searchRuns({ experimentIds: ['0'], maxResults: 10 });
    assert.deepEqual(runs.runs.map((r) => r.info.run_name), ['first']);
  });

  it('activates, serves the workspace store on 127.0.0.1 and reports its timings', async () => {
    const api = await runlens();
    const state = api.service.state;
    assert.equal(state.kind, 'ready');
    if (state.kind !== 'ready') return;
    assert.equal(state.backend, 'embedded');
    assert.match(state.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(state.root, path.join(workspaceDir(), 'mlruns'));
    assert.ok(fs.existsSync(path.join(state.root, '.runlens', 'lock.json')));
    assert.equal(await (await fetch(`${state.url}/health`)).text(), 'OK');
    report(`activation ${api.activationMs.toFixed(1)} ms (activate() wall time); server ready ${api.service.startupMs} ms after it started`);
  });

  it('sets MLFLOW_TRACKING_URI in new integrated terminals', async () => {
    const api = await runlens();
    const out = path.join(workspaceDir(), 'env-probe.txt');
    fs.rmSync(out, { force: true });
    const terminal = vscode.window.createTerminal({ name: 'env probe', cwd: workspaceDir() });
    terminal.sendText(`"${python()}" -c "import os; open('env-probe.txt','w').write(os.environ.get('MLFLOW_TRACKING_URI',''))"`);
    const value = await waitFor('the terminal to write env-probe.txt', () => (fs.existsSync(out) && fs.readFileSync(out, 'utf8')) || undefined, 30_000);
    assert.equal(value, api.service.url);
    terminal.dispose();
  });

  it('keeps the same port for the workspace across a restart', async () => {
    const api = await runlens();
    const before = api.service.url;
    await vscode.commands.executeCommand('runlens.restartServer');
    await api.service.ready();
    assert.equal(api.service.url, before);
  });

  it('attaches to a runlens serve that already owns the store instead of failing', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-attach-'));
    const child = runlensServe(root);
    try {
      const url = await child.url;
      const backend = await startOrAttach({ root, preferredPort: 0, log: quiet, cliPath: CLI_PATH });
      assert.equal(backend.kind, 'attached');
      assert.equal(backend.url, url);
    } finally {
      child.stop();
    }
  });

  it('attaches when another server owns the configured store, and takes over when it goes away', async () => {
    const api = await runlens();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-shared-'));
    const child = runlensServe(root);
    const config = vscode.workspace.getConfiguration('runlens');
    try {
      const url = await child.url;
      await config.update('storePath', root, vscode.ConfigurationTarget.Workspace);
      const attached = await waitFor('the window to attach', () => {
        const s = api.service.state;
        return s.kind === 'ready' && s.root === root ? s : undefined;
      });
      assert.equal(attached.backend, 'attached');
      assert.equal(attached.url, url);
      child.stop();
      const taken = await waitFor('the window to take the store over', () => {
        const s = api.service.state;
        return s.kind === 'ready' && s.backend === 'embedded' && s.root === root ? s : undefined;
      }, 20_000);
      assert.notEqual(taken.url, url);
      assert.equal(await (await fetch(`${taken.url}/health`)).text(), 'OK');
    } finally {
      child.stop();
      await config.update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
      await waitFor('the workspace store again', () => {
        const s = api.service.state;
        return s.kind === 'ready' && s.root === path.join(workspaceDir(), 'mlruns') ? s : undefined;
      });
    }
  });

  it('falls back to a free port when the preferred one is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-port-'));
    try {
      const backend = await startOrAttach({ root, preferredPort: taken, log: quiet, cliPath: CLI_PATH });
      assert.equal(backend.kind, 'embedded');
      if (backend.kind === 'embedded') {
        assert.equal(backend.portFallback, true);
        assert.notEqual(backend.process.port, taken);
        await backend.process.stop();
      }
    } finally {
      blocker.close();
    }
  });

  it('reports a store path that cannot be written with a fix, instead of crashing', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bad-')), 'a-file');
    fs.writeFileSync(file, 'not a folder');
    await assert.rejects(startOrAttach({ root: path.join(file, 'store'), preferredPort: 0, log: quiet, cliPath: CLI_PATH }), (err: unknown) => {
      assert.ok(err instanceof BackendStartError);
      assert.match(err.message, /not writable/);
      assert.match(err.fix, /runlens\.storePath/);
      return true;
    });
  });
});
