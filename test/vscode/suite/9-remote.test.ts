// A team MLflow server with basic auth (MLflow's own basic-auth app): added with "Add MLflow
// Server…" (the password to SecretStorage, not settings), a wrong password refused with one
// clear message, browsed after re-entering it, and two workspace runs published to it with
// "Publish to…", checked on the server over REST.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunlensApi } from '../../../src/extension/api';
import type { PublishOutcome } from '../../../src/extension/sources/remoteServerConfig';
import type { ExperimentNode, ExplorerNode, RunNode, SourceNode } from '../../../src/extension/tree/nodes';
import { MLFLOW_SERVER_BIN, startBasicAuthMlflow, type BasicAuthServer } from '../../support/basicAuthMlflow';
import { createRun, postJson, report, runlens, waitFor, workspaceDir } from './helpers';

const NAME = 'team';
const KEY = `remote:${NAME}`;

describe('a team MLflow server with basic auth', function () {
  this.timeout(240_000);
  let api: RunlensApi;
  let server: BasicAuthServer;
  let auth: string;

  before(async function () {
    if (!fs.existsSync(MLFLOW_SERVER_BIN)) throw new Error(`${MLFLOW_SERVER_BIN} is missing (scripts/setup-python.sh builds .venv/pgserver)`);
    api = await runlens();
    const t0 = Date.now();
    server = await startBasicAuthMlflow();
    report(`basic-auth mlflow server up in ${Date.now() - t0} ms`);
    auth = `Basic ${Buffer.from(`${server.username}:${server.password}`).toString('base64')}`;
  });

  after(async () => {
    await vscode.commands.executeCommand('runlens.removeRemoteServer', NAME);
    await server?.stop();
  });

  const sourceNode = async (): Promise<SourceNode | undefined> => (await api.experiments.getChildren()).find((n): n is SourceNode => n.type === 'source' && n.key === KEY);

  it('adds the server without putting the password in settings, and says once that a wrong one is refused', async () => {
    const name = await vscode.commands.executeCommand('runlens.addRemoteServer', { name: NAME, url: `${server.url}/`, auth: 'basic', username: server.username, secret: 'wrong-password' });
    assert.equal(name, NAME);
    assert.deepEqual(vscode.workspace.getConfiguration('runlens').get('remoteServers'), [{ name: NAME, url: server.url, auth: 'basic', username: server.username }]);
    const settingsFile = path.join(workspaceDir(), '.vscode', 'settings.json');
    const settings = fs.readFileSync(settingsFile, 'utf8');
    assert.ok(!settings.includes('wrong-password') && settings.includes(server.url), settings);
    const source = await waitFor('the team server as a source', sourceNode);
    const item = api.experiments.getTreeItem(source);
    assert.equal(item.label, NAME);
    assert.equal(item.contextValue, 'runlens.source;remote');
    assert.match(String(item.tooltip), /basic auth as admin/);
    const children = await api.experiments.getChildren(source);
    assert.equal(children.length, 1);
    const msg = children[0]!;
    assert.ok(msg.type === 'message' && msg.isError, JSON.stringify(msg));
    assert.match(msg.type === 'message' ? msg.message : '', /refused the credentials \(HTTP 401\)/);
  });

  let source: SourceNode;

  it('browses its experiments after the credentials are re-entered', async () => {
    await vscode.commands.executeCommand('runlens.reenterRemoteCredentials', NAME, server.password);
    source = (await sourceNode())!;
    const children = await waitFor('the experiments of the team server', async () => {
      const c = await api.experiments.getChildren(source);
      return c.some((n) => n.type === 'experiment') ? c : undefined;
    });
    const names = children.filter((n): n is ExperimentNode => n.type === 'experiment').map((n) => n.experiment.name);
    assert.deepEqual(names, ['Default']);
    // Read-only there: none of the workspace's write actions (nor Publish) on its nodes.
    assert.match(api.experiments.getTreeItem(children[0]!).contextValue ?? '', /^runlens\.experiment;readonly/);
  });

  it('publishes two workspace runs to it, which arrive with their params and metrics', async () => {
    const client = api.service.client;
    const expName = `publish-${Date.now()}`;
    const expId = await client.createExperiment(expName);
    const base = client.baseUrl;
    const ids: string[] = [];
    for (const [i, lr] of [0.1, 0.01].entries()) {
      const id = await createRun(base, { experiment_id: expId, run_name: `lr-${lr}` });
      await postJson(base, '/api/2.0/mlflow/runs/log-batch', { run_id: id, params: [{ key: 'lr', value: String(lr) }], metrics: [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1 + i), timestamp: Date.now(), step })) });
      await postJson(base, '/api/2.0/mlflow/runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });
      ids.push(id);
    }
    api.experiments.refreshAll();
    let expNode: ExperimentNode | undefined;
    const runs = await waitFor('the two runs in the workspace tree', async () => {
      const root = await api.experiments.getChildren();
      const ws = root.find((n) => n.type === 'source' && n.key === 'workspace');
      const exps = ws ? await api.experiments.getChildren(ws) : root;
      const exp = (expNode = exps.find((n): n is ExperimentNode => n.type === 'experiment' && n.experiment.name === expName));
      const r = exp ? (await api.experiments.getChildren(exp)).filter((n): n is RunNode => n.type === 'run') : [];
      return r.length === 2 ? r : undefined;
    });
    assert.match(api.experiments.getTreeItem(runs[0]!).contextValue ?? '', /^runlens\.run;active/);

    const t0 = Date.now();
    const outcome = await vscode.commands.executeCommand<PublishOutcome | undefined>('runlens.publishTo', runs[0], runs, NAME);
    report(`published 2 runs to a basic-auth mlflow server in ${Date.now() - t0} ms`);
    assert.ok(outcome, 'the publish failed (see the Runlens output)');
    assert.deepEqual({ created: outcome.created, updated: outcome.updated, conflicts: outcome.conflicts }, { created: 2, updated: 0, conflicts: [] });

    // On the server, as its REST API answers an authenticated client.
    const got = await fetch(`${server.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(expName)}`, { headers: { Authorization: auth } });
    assert.equal(got.status, 200);
    const remoteExpId = ((await got.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id;
    const search = await fetch(`${server.url}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ experiment_ids: [remoteExpId] }) });
    const remote = ((await search.json()) as { runs?: { info: { run_name: string }; data: { params?: { key: string; value: string }[]; tags?: { key: string; value: string }[] } }[] }).runs ?? [];
    assert.equal(remote.length, 2);
    const origins = remote.map((r) => r.data.tags?.find((t) => t.key === 'runlens.origin.runId')?.value).sort();
    assert.deepEqual(origins, [...ids].sort());
    assert.deepEqual(remote.map((r) => r.data.params?.find((p) => p.key === 'lr')?.value).sort(), ['0.01', '0.1']);
    // MLflow 3.6 answers get-history without max_results with an empty first page.
    const history = await fetch(`${server.url}/api/2.0/mlflow/metrics/get-history?run_id=${(remote[0] as unknown as { info: { run_id: string } }).info.run_id}&metric_key=loss&max_results=1000`, { headers: { Authorization: auth } });
    const historyBody = (await history.json()) as { metrics?: unknown[] };
    assert.equal(historyBody.metrics?.length, 3, `get-history answered ${history.status}: ${JSON.stringify(historyBody)}; search: ${JSON.stringify(remote[0])}`);

    // And in the explorer, under the team server.
    const remoteRuns = await waitFor('the published runs under the team server', async () => {
      const exps = await api.experiments.getChildren(source);
      const exp = exps.find((n): n is ExperimentNode => n.type === 'experiment' && n.experiment.name === expName);
      const r = exp ? (await api.experiments.getChildren(exp)).filter((n) => n.type === 'run') : [];
      return r.length === 2 ? r : undefined;
    }, 30_000);
    assert.deepEqual(remoteRuns.map((n: ExplorerNode) => api.experiments.getTreeItem(n).label).sort(), ['lr-0.01', 'lr-0.1']);
    // Read actions read the team server (with the auth header): a run opens as a document.
    const editor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('runlens.openRunDocument', remoteRuns[0]);
    assert.ok(editor);
    assert.equal(new URLSearchParams(editor.document.uri.query).get('source'), KEY);
    assert.match(editor.document.getText(), /lr[\s\S]*0\.0?1/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    // Publishing the whole experiment again changes nothing.
    const again = await vscode.commands.executeCommand<PublishOutcome | undefined>('runlens.publishTo', expNode, [expNode], NAME);
    assert.deepEqual(again && { created: again.created, updated: again.updated, unchanged: again.unchanged }, { created: 0, updated: 0, unchanged: 2 });
  });

  it('signs in with a bearer token too (a gateway that takes tokens in front of the server)', async () => {
    // Accepts only its token, and forwards as the server's admin: what a token-checking proxy does.
    const token = 'runlens-test-token';
    const gateway = http.createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error_code":"UNAUTHENTICATED","message":"bad token"}');
        return;
      }
      const target = new URL(req.url ?? '/', server.url);
      const up = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host, authorization: auth } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
    try {
      await vscode.commands.executeCommand('runlens.addRemoteServer', { name: 'gateway', url, auth: 'bearer', secret: token });
      const node = await waitFor('the gateway as a source', async () => (await api.experiments.getChildren()).find((n): n is SourceNode => n.type === 'source' && n.key === 'remote:gateway'));
      const exps = await waitFor('experiments through the gateway', async () => {
        const c = await api.experiments.getChildren(node);
        return c.filter((n) => n.type === 'experiment').length >= 2 ? c : undefined;
      });
      assert.ok(exps.some((n) => n.type === 'experiment' && n.experiment.name.startsWith('publish-')));
      // The CLI gets the token as MLFLOW_TRACKING_TOKEN: the runs are found there, unchanged.
      const ws = (await api.experiments.getChildren()).find((n) => n.type === 'source' && n.key === 'workspace')!;
      const expNode = (await api.experiments.getChildren(ws)).find((n): n is ExperimentNode => n.type === 'experiment' && n.experiment.name.startsWith('publish-'))!;
      const outcome = await vscode.commands.executeCommand<PublishOutcome | undefined>('runlens.publishTo', expNode, [expNode], 'gateway');
      assert.deepEqual(outcome && { created: outcome.created, unchanged: outcome.unchanged }, { created: 0, unchanged: 2 });
    } finally {
      await vscode.commands.executeCommand('runlens.removeRemoteServer', 'gateway');
      gateway.close();
    }
  });
});
