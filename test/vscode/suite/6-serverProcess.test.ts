// The tracking server runs in its own process, supervised by the window (issue 15, "Off the
// extension host"). The harness (scripts/vscode-test.js) checks after the window closed that none
// of the server processes recorded here is left behind.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunlensApi } from '../../../src/extension/api';
import type { ServiceState } from '../../../src/extension/backend/trackingService';
import { processAlive, readLockOwner } from '../../../src/store/storeLock';
import { createRun, resultsDir, runlens, treeSnapshot, waitFor } from './helpers';

type Ready = Extract<ServiceState, { kind: 'ready' }>;

/** Remembers a server pid for the harness's orphan check after the window is gone. */
function recordServerPid(pid: number): void {
  fs.appendFileSync(path.join(resultsDir(), 'server-pids.txt'), `${pid}\n`);
}

function readyState(api: RunlensApi): Ready | undefined {
  const s = api.service.state;
  return s.kind === 'ready' ? s : undefined;
}

async function restartedAfterKill(api: RunlensApi, before: Ready): Promise<Ready> {
  process.kill(before.pid, 'SIGKILL');
  // A killed server wrote no snapshot: the restart replays the journal, which after the 10k-run
  // suite holds ~20k records (39 s on a loaded 2-core machine).
  const next = await waitFor('the server to be restarted', () => {
    const s = readyState(api);
    return s && s.pid !== before.pid ? s : undefined;
  }, 150_000);
  recordServerPid(next.pid);
  return next;
}

describe('the server process', function () {
  this.timeout(300_000);

  it('serves the store from its own process, not the extension host', async () => {
    const api = await runlens();
    const s = readyState(api);
    assert.ok(s);
    recordServerPid(s.pid);
    assert.equal(s.backend, 'embedded');
    assert.notEqual(s.pid, process.pid, 'the server is not the extension host');
    assert.ok(processAlive(s.pid));
    assert.equal(readLockOwner(s.root)?.pid, s.pid, 'the server process owns the store lock');
  });

  it('restarts a killed server on the same address, and the views recover', async () => {
    const api = await runlens();
    const client = api.service.client;
    const name = `survives-${Date.now()}`;
    const expId = await client.createExperiment(name);
    await createRun(client.baseUrl, { experiment_id: expId, run_name: 'before-crash' });
    const before = readyState(api)!;
    const seen: string[] = [];
    const sub = api.service.onDidChangeState((st) => seen.push(st.kind));
    const after = await restartedAfterKill(api, before);
    sub.dispose();
    assert.deepEqual(seen.slice(0, 2), ['starting', 'ready'], `states: ${seen.join(' → ')}`);
    assert.equal(after.url, before.url, 'terminals keep their MLFLOW_TRACKING_URI');
    assert.equal(api.service.url, before.url);
    // Acknowledged writes survived the kill (journal), and the tree shows them again.
    const runId = await createRun(api.service.client.baseUrl, { experiment_id: expId, run_name: 'after-crash' });
    const names = await waitFor('both runs in the tree', async () => {
      const snap = await treeSnapshot(api);
      const runs = snap.filter((x) => x.node.type === 'run' && x.node.run.info.experiment_id === expId).map((x) => x.label);
      return runs.includes('before-crash') && runs.includes('after-crash') ? runs : undefined;
    });
    assert.equal(names.length, 2);
    assert.ok(api.experiments.loadedRuns(expId).some((r) => r.info.run_id === runId));
  });

  it('gives up on a server that keeps crashing right after it starts, then starts again on request', async () => {
    const api = await runlens();
    await vscode.commands.executeCommand('runlens.restartServer'); // a fresh crash streak
    let s = await waitFor('the server after Restart', () => readyState(api));
    recordServerPid(s.pid);
    const failed = new Promise<Extract<ServiceState, { kind: 'failed' }>>((resolve) => {
      const sub = api.service.onDidChangeState((st) => {
        if (st.kind === 'failed') {
          sub.dispose();
          resolve(st);
        }
      });
    });
    // Three restarts (0.5 s, 2 s, 8 s apart), each killed at once: the fourth crash is given up.
    for (let i = 0; i < 3; i++) s = await restartedAfterKill(api, s);
    process.kill(s.pid, 'SIGKILL');
    const f = await failed;
    assert.equal(f.crashed, true);
    assert.match(f.message, /crashed 4 times in a row/);
    assert.match(f.fix, /Restart Tracking Server/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(api.service.state.kind, 'failed', 'no more restarts after giving up');
    await vscode.commands.executeCommand('runlens.restartServer');
    const back = await waitFor('the server after Restart', () => readyState(api), 30_000);
    recordServerPid(back.pid);
    assert.equal(await (await fetch(`${back.url}/health`)).text(), 'OK');
  });
});
