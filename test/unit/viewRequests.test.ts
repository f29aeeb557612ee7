// The host's side of a view's cancel: a `cancel` message (or the view going away) aborts the
// TrackingClient fetch of the request in flight, so a server that never answers gets its socket
// closed instead of holding it, and no response is posted for the cancelled request.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { TrackingClient } from '../../src/client/trackingClient';
import { tlsFetch } from '../../src/client/tlsFetch';
import type { ToView, UiRequest } from '../../src/ui/protocol';
import { UiBackend } from '../../src/ui/uiBackend';
import { isAbortError, ViewRequests } from '../../src/ui/viewRequests';
import { until } from './helpers';

interface Held {
  url: string;
  closed: boolean;
}

/**
 * A server that never answers (it notes each request and when its socket closes); `answers404`
 * routes get MLflow's "no such endpoint", as a plain mlflow server answers a Runlens-only route.
 */
async function silentServer(answers404: (url: string) => boolean = () => false, tls?: { cert: Buffer; key: Buffer }): Promise<{ base: string; held: Held[]; close(): Promise<void> }> {
  const held: Held[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (answers404(req.url ?? '')) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: 'no route' }));
      return;
    }
    const h: Held = { url: req.url ?? '', closed: false };
    held.push(h);
    req.socket.on('close', () => (h.closed = true));
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    held,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('view requests: cancel on the host', () => {
  it('a cancel message aborts the fetch of the request in flight: the socket closes and no response is posted', async () => {
    const server = await silentServer();
    try {
      const backend = new UiBackend(new TrackingClient(server.base));
      const requests = new ViewRequests<string>();
      const posted: ToView[] = [];
      const failures: string[] = [];
      const request: UiRequest = { kind: 'runDetail', runId: 'r1' };
      const answering = requests.receive('panel', { type: 'request', id: 7, request }, (r, signal) => backend.handle(r, signal), (m) => posted.push(m), (_r, text) => failures.push(text));
      await until('the server to get the request', () => server.held.length === 1);
      assert.match(server.held[0]!.url, /runs\/get\?run_id=r1/);
      // Not cancelled yet: the fetch waits on the open socket.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(server.held[0]!.closed, false);
      assert.equal(requests.pending('panel'), 1);

      await requests.receive('panel', { type: 'cancel', id: 7 }, () => Promise.reject(new Error('a cancel is not answered')), (m) => posted.push(m));
      await answering;
      await until('the fetch socket to close', () => server.held[0]!.closed, 5000);
      assert.deepEqual(posted, [], 'no response for a cancelled request');
      assert.deepEqual(failures, [], 'a cancel is not logged as a failure');
      assert.equal(requests.pending('panel'), 0);
    } finally {
      await server.close();
    }
  });

  it("closing the view aborts all its requests, the plain-server fallbacks' too, and leaves other views' alone", async () => {
    // A plain mlflow server: the Runlens series route is missing, the history read then hangs.
    const server = await silentServer((url) => url.startsWith('/runlens/'));
    try {
      const backend = new UiBackend(new TrackingClient(server.base));
      const requests = new ViewRequests<string>();
      const posted: [string, ToView][] = [];
      const ask = (view: string, id: number, request: UiRequest): Promise<void> => requests.receive(view, { type: 'request', id, request }, (r, signal) => backend.handle(r, signal), (m) => posted.push([view, m]));
      const closing = [ask('charts', 1, { kind: 'series', runId: 'r1', key: 'loss', axis: 'step', buckets: 100 }), ask('charts', 2, { kind: 'searchRuns', experimentIds: ['0'], filter: '', orderBy: [], maxResults: 10 })];
      const other = ask('table', 1, { kind: 'runDetail', runId: 'r2' });
      const has = (part: string): boolean => server.held.some((h) => h.url.includes(part));
      // The fallback reads the run's status before its history: that read is the one held.
      await until("the fallback's read, the search and the other view's run", () => has('run_id=r1') && has('runs/search') && has('run_id=r2'));

      requests.cancelAll('charts');
      await Promise.all(closing);
      const charts = server.held.filter((h) => !h.url.includes('run_id=r2'));
      await until("the closed view's sockets to close", () => charts.every((h) => h.closed), 5000);
      assert.equal(server.held.find((h) => h.url.includes('run_id=r2'))!.closed, false, "the other view's request is still waiting");
      assert.equal(requests.pending('table'), 1);
      assert.deepEqual(posted, []);

      requests.cancelAll('table');
      await other;
    } finally {
      await server.close();
    }
  });

  it("a team server over https with its own CA (tlsFetch): the cancel closes that socket too", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-cancel-tls-'));
    const keyFile = path.join(dir, 'key.pem');
    const caFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const server = await silentServer(undefined, { cert: fs.readFileSync(caFile), key: fs.readFileSync(keyFile) });
    try {
      const backend = new UiBackend(new TrackingClient(server.base, {}, tlsFetch({ caFile })));
      const requests = new ViewRequests<string>();
      const posted: ToView[] = [];
      const answering = requests.receive('panel', { type: 'request', id: 1, request: { kind: 'searchTraces', experimentIds: ['0'], filter: '', orderBy: [], maxResults: 10 } }, (r, signal) => backend.handle(r, signal), (m) => posted.push(m));
      await until('the server to get the request', () => server.held.length === 1);
      await requests.receive('panel', { type: 'cancel', id: 1 }, () => Promise.reject(new Error('not answered')), (m) => posted.push(m));
      await answering;
      await until('the https socket to close', () => server.held[0]!.closed, 5000);
      assert.deepEqual(posted, []);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cancelled TrackingClient call rejects with an AbortError, not as an unavailable server', async () => {
    const server = await silentServer();
    try {
      const controller = new AbortController();
      const call = new TrackingClient(server.base).withSignal(controller.signal).getRun('r1');
      await until('the request', () => server.held.length === 1);
      controller.abort();
      await assert.rejects(call, (err: unknown) => isAbortError(err));
    } finally {
      await server.close();
    }
  });
});
