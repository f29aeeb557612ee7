// A team server behind https with its own certificate (self-signed here, made by openssl for the
// test) and a gateway that wants a custom header: the explorer's REST client and `runlens publish`
// reach it with the CA file or, opted in, without verification — and are refused, with the
// reason, without them. The gateway is an https proxy in front of a real `runlens serve`.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrackingApiError, TrackingClient } from '../../src/client/trackingClient';
import { tlsFetch, untrustedCertificateCode } from '../../src/client/tlsFetch';
import { RestClient, RestError } from '../../src/backend/remote/restClient';
import { authFromEnv, parseHeadersEnv } from '../../src/cliImport';
import { authHeaders, credentialEnv, parseHeaderLines, parseRemoteServers, tlsEnv, tlsOptionsOf, untrustedCertificateMessage } from '../../src/extension/sources/remoteServerConfig';
import { CLI_PATH, runlensServe, type ServeProcess } from '../support/runlensServe';

const KEY_HEADER = 'x-api-key';
const KEY = 'k-123';

/** An https gateway to `target` that refuses requests without the API key header. */
function gateway(target: string, cert: Buffer, key: Buffer): Promise<{ url: string; close(): void }> {
  const upstream = new URL(target);
  const server = https.createServer({ cert, key }, (req, res) => {
    if (req.headers[KEY_HEADER] !== KEY) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error_code: 'UNAUTHENTICATED', message: 'missing API key' }));
      return;
    }
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() })));
}

function publish(root: string, to: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MLFLOW_TRACKING_') && k !== 'RUNLENS_TRACKING_HEADERS'));
    const child = spawn(process.execPath, [CLI_PATH, 'publish', '--root', root, '--to', to, '--experiment', 'tls-team'], { env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function post(url: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Record<string, unknown>;
}

describe('a team server over https with its own CA and a gateway header', function () {
  this.timeout(90_000);
  let dir: string;
  let caFile: string;
  let team: ServeProcess;
  let gw: { url: string; close(): void };
  let localRoot: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-tls-'));
    caFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    team = runlensServe(path.join(dir, 'team'));
    gw = await gateway(await team.url, fs.readFileSync(caFile), fs.readFileSync(keyFile));
    // A workspace store with one finished run, to publish.
    localRoot = path.join(dir, 'local');
    const local = runlensServe(localRoot);
    const url = await local.url;
    const exp = (await post(url, '/api/2.0/mlflow/experiments/create', { name: 'tls-team' })).experiment_id as string;
    const run = ((await post(url, '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: 'secure-run', start_time: 1 })).run as { info: { run_id: string } }).info.run_id;
    await post(url, '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics: Array.from({ length: 50 }, (_, s) => ({ key: 'loss', value: 1 / (s + 1), timestamp: 1000 + s, step: s })), params: [{ key: 'lr', value: '0.1' }] });
    // An artifact, so the publish streams an upload body through the TLS connection too.
    const info = ((await (await fetch(`${url}/api/2.0/mlflow/runs/get?run_id=${run}`)).json()) as { run: { info: { artifact_uri: string } } }).run.info.artifact_uri;
    const put = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${info.replace(/^mlflow-artifacts:\//, '')}/notes.txt`, { method: 'PUT', body: 'x'.repeat(200_000) });
    assert.equal(put.status, 200, await put.text());
    await post(url, '/api/2.0/mlflow/runs/update', { run_id: run, status: 'FINISHED', end_time: 2 });
    local.stop();
    await new Promise((r) => setTimeout(r, 500));
  });
  after(() => {
    gw?.close();
    team?.stop();
  });

  const headers = (): Record<string, string> => {
    const h = parseHeaderLines(`X-Api-Key: ${KEY}`);
    assert.equal(typeof h, 'object');
    return h as Record<string, string>;
  };

  it('is refused with the certificate named as the reason when its CA is not trusted', async () => {
    const client = new TrackingClient(gw.url, headers());
    await assert.rejects(client.listExperiments(), (err: unknown) => err instanceof TrackingApiError && err.status === 0 && /certificate/i.test(err.message));
  });

  it("names an untrusted certificate from the error's cause (the TLS code), not from words in the message: a host called certificate is only not found", async () => {
    const failure = (p: Promise<unknown>) => p.then(() => assert.fail('answered'), (err: unknown) => err);
    const server = (url: string) => parseRemoteServers([{ name: 'team', url }]).servers[0]!;
    const selfSigned = await failure(new TrackingClient(gw.url, headers()).listExperiments());
    const code = untrustedCertificateCode(selfSigned);
    assert.ok(code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN', String(code));
    assert.match(untrustedCertificateMessage(server(gw.url), selfSigned) ?? '', /TLS certificate is not trusted here \((DEPTH_ZERO|SELF_SIGNED).*"caFile"/);
    assert.equal(untrustedCertificateCode(await failure(new TrackingClient(gw.url, headers(), tlsFetch({ insecure: true })).getExperiment('no-such'))), undefined);
    for (const url of ['https://untrusted-certificate.invalid', 'http://self-signed-cert-CERT_HAS_EXPIRED.invalid:5000']) {
      const notFound = await failure(new TrackingClient(url).listExperiments());
      assert.ok(notFound instanceof TrackingApiError && notFound.status === 0 && /ENOTFOUND/.test(notFound.message), String(notFound));
      assert.match(notFound.message, /certificate|CERT_/i, 'the message names the host');
      assert.equal(untrustedCertificateCode(notFound), undefined, url);
      assert.equal(untrustedCertificateMessage(server(url), notFound), undefined, url);
      const published = await failure(new RestClient(url).json('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }));
      assert.ok(published instanceof RestError && /Cannot reach the MLflow server/.test(published.message), String(published));
    }
    // The REST client of runlens publish names the certificate too.
    const refused = await failure(new RestClient(gw.url).json('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }));
    assert.ok(refused instanceof RestError && /does not trust \((DEPTH_ZERO|SELF_SIGNED)/.test(refused.message), String(refused));
  });

  it('answers with its CA file trusted, or with verification turned off; a bad CA path is named', async () => {
    const trusted = new TrackingClient(gw.url, headers(), tlsFetch({ caFile }));
    const id = await trusted.createExperiment('made-over-tls');
    assert.ok((await trusted.listExperiments()).some((e) => e.experiment_id === id && e.name === 'made-over-tls'));
    const page = await trusted.searchRuns({ experimentIds: [id], maxResults: 5 });
    assert.deepEqual(page.runs, []);
    const insecure = new TrackingClient(gw.url, headers(), tlsFetch({ insecure: true }));
    assert.equal((await insecure.getExperiment(id)).name, 'made-over-tls');
    const missing = new TrackingClient(gw.url, headers(), tlsFetch({ caFile: path.join(dir, 'nope.pem') }));
    await assert.rejects(missing.listExperiments(), /cannot read the CA certificates at .*nope\.pem/);
    // Without the gateway's header the server itself says no (401), through the trusted connection.
    const noKey = new TrackingClient(gw.url, {}, tlsFetch({ caFile }));
    await assert.rejects(noKey.listExperiments(), (err: unknown) => err instanceof TrackingApiError && err.status === 401);
  });

  it('runlens publish reads the client\'s TLS variables and RUNLENS_TRACKING_HEADERS', async () => {
    const refused = await publish(localRoot, gw.url, { RUNLENS_TRACKING_HEADERS: JSON.stringify({ 'X-Api-Key': KEY }) });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /certificate/i);
    const ok = await publish(localRoot, gw.url, { MLFLOW_TRACKING_SERVER_CERT_PATH: caFile, RUNLENS_TRACKING_HEADERS: JSON.stringify({ 'X-Api-Key': KEY }) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /published 1 runs \(1 new, 0 updated\), 50 metric points, 1 artifacts/);
    const again = await publish(localRoot, gw.url, { MLFLOW_TRACKING_INSECURE_TLS: 'true', RUNLENS_TRACKING_HEADERS: JSON.stringify({ 'X-Api-Key': KEY }) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\(0 new, 0 updated\)/);
    const team = new TrackingClient(await teamUrl(), {});
    const exp = (await team.listExperiments()).find((e) => e.name === 'tls-team')!;
    const runs = await team.searchRuns({ experimentIds: [exp.experiment_id], maxResults: 10 });
    assert.deepEqual(runs.runs.map((r) => r.info.run_name), ['secure-run']);
    const files = await team.listArtifacts(runs.runs[0]!.info.run_id);
    assert.deepEqual(files.map((f) => [f.path, f.file_size]), [['notes.txt', 200_000]]);
    const badHeaders = await publish(localRoot, gw.url, { MLFLOW_TRACKING_SERVER_CERT_PATH: caFile, RUNLENS_TRACKING_HEADERS: '["X-Api-Key"]' });
    assert.equal(badHeaders.code, 2);
    assert.match(badHeaders.stderr, /RUNLENS_TRACKING_HEADERS must be a JSON object/);
  });
  const teamUrl = (): Promise<string> => team.url;
});

describe('team server settings: TLS and custom headers', () => {
  it('keeps caFile and insecure for https servers only, and custom headers as the secret', () => {
    const { servers, skipped } = parseRemoteServers([
      { name: 'corp', url: 'https://mlflow.corp', auth: 'headers', caFile: '/etc/corp-ca.pem' },
      { name: 'test', url: 'https://10.0.0.5:5000/', insecure: true },
      { name: 'plain', url: 'http://10.0.0.6', insecure: true },
      { name: 'odd', url: 'https://x', insecure: 'yes' },
    ]);
    assert.deepEqual(servers, [
      { name: 'corp', url: 'https://mlflow.corp', auth: 'headers', caFile: '/etc/corp-ca.pem' },
      { name: 'test', url: 'https://10.0.0.5:5000', auth: 'none', insecure: true },
    ]);
    assert.deepEqual(skipped, ['plain: caFile and insecure apply to https:// servers only', 'odd: insecure must be true or false']);
    const [corp, test] = servers as [(typeof servers)[0], (typeof servers)[0]];
    assert.deepEqual(tlsOptionsOf(corp), { caFile: '/etc/corp-ca.pem' });
    assert.deepEqual(tlsEnv(corp), { MLFLOW_TRACKING_SERVER_CERT_PATH: '/etc/corp-ca.pem' });
    assert.deepEqual(tlsEnv(test), { MLFLOW_TRACKING_INSECURE_TLS: 'true' });
    assert.deepEqual(authHeaders(corp, 'X-Api-Key: abc; X-Tenant: t1'), { 'X-Api-Key': 'abc', 'X-Tenant': 't1' });
    assert.deepEqual(credentialEnv(corp, 'X-Api-Key: abc'), { RUNLENS_TRACKING_HEADERS: '{"X-Api-Key":"abc"}' });
    assert.match(parseHeaderLines('no colon here') as string, /not a 'Name: value' header/);
    assert.match(parseHeaderLines(' ; ') as string, /at least one header/);
  });

  it('reads the MLflow client\'s TLS variables for the CLI', () => {
    assert.deepEqual(authFromEnv({ MLFLOW_TRACKING_SERVER_CERT_PATH: '/ca.pem', MLFLOW_TRACKING_INSECURE_TLS: 'True', RUNLENS_TRACKING_HEADERS: '{"A":"b"}' }), { caFile: '/ca.pem', insecure: true, headers: { A: 'b' } });
    assert.deepEqual(authFromEnv({ MLFLOW_TRACKING_INSECURE_TLS: 'false' }), {});
    assert.throws(() => parseHeadersEnv('{"A": 1}'), /JSON object of header names to string values/);
  });
});
