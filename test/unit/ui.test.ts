// View plumbing without a browser: the page shell's CSP, the message guard, UiBackend's answers.
import * as assert from 'node:assert/strict';
import { TrackingClient } from '../../src/client/trackingClient';
import { contentSecurityPolicy, renderPage } from '../../src/ui/pageHtml';
import { isToHost } from '../../src/ui/protocol';
import { UiBackend } from '../../src/ui/uiBackend';
import { call, startTestServer, type TestServer } from './helpers';

describe('views: page shell and protocol', () => {
  it('renders a strict CSP and inert, escaped state', () => {
    const html = renderPage({ title: 'T <x>', nonce: 'abc', source: 'vscode-resource:', connect: "'none'", scriptUri: 'vscode-resource:/charts.js', styleUris: ['vscode-resource:/webview.css'], state: { runIds: ['</script><script>alert(1)</script>'] } });
    const decoded = html.replace(/&#39;/g, "'");
    assert.match(decoded, /content="default-src 'none'; script-src 'nonce-abc';/);
    assert.doesNotMatch(contentSecurityPolicy({ nonce: 'n', source: "'self'", connect: "'self'" }), /unsafe|\*/);
    assert.doesNotMatch(html, /<\/script><script>alert/);
    assert.match(html, /<title>T &#60;x&#62;<\/title>/);
    assert.match(html, /<script type="module" nonce="abc" src="vscode-resource:\/charts.js"><\/script>/);
  });

  it('accepts only well-formed messages from a view', () => {
    assert.ok(isToHost({ type: 'request', id: 1, request: { kind: 'runs', runIds: [] } }));
    assert.ok(isToHost({ type: 'action', action: 'openDiff', runIds: ['a', 'b'] }));
    assert.ok(isToHost({ type: 'cancel', id: 3 }));
    for (const bad of [null, 'x', { type: 'request' }, { type: 'cancel' }, { type: 'cancel', id: '3' }, { type: 'request', id: '1', request: { kind: 'runs' } }, { type: 'action', action: 'openDiff' }, { type: 'action', action: 'rm', runIds: [] }, { type: 'action', action: 'openRun', runIds: [1] }, { type: 'eval', code: '1' }]) {
      assert.equal(isToHost(bad), false, JSON.stringify(bad));
    }
  });

  describe('UiBackend against a server', () => {
    let t: TestServer;
    let backend: UiBackend;
    before(async () => {
      t = await startTestServer();
      backend = new UiBackend(new TrackingClient(t.server.url));
    });
    after(async () => {
      await t.close();
    });

    it('summarises runs and serves series with NaN and infinities as numbers', async () => {
      const run = (await call(t.server.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'r' })).body.run as { info: { run_id: string } };
      const id = run.info.run_id;
      await call(t.server.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'm', value: 'NaN', timestamp: 1, step: 0 }, { key: 'm', value: 2, timestamp: 2, step: 1 }, { key: 'z', value: 1, timestamp: 1, step: 0 }] });
      const [summary] = await backend.handle({ kind: 'runs', runIds: [id] });
      assert.deepEqual(summary?.metricKeys, ['m', 'z']);
      assert.equal(summary?.name, 'r');
      const s = await backend.handle({ kind: 'series', runId: id, key: 'm', axis: 'step', buckets: 10 });
      assert.ok(Number.isNaN(s.points[0]!.value));
      assert.equal(s.points[1]!.value, 2);
    });

    it('turns bad requests into errors a view can show', async () => {
      await assert.rejects(backend.handle({ kind: 'runs', runIds: [] }), /at least one run/);
      await assert.rejects(backend.handle({ kind: 'runs', runIds: ['missing'] }), /missing/);
      await assert.rejects(backend.handle({ kind: 'nope' } as never), /Unknown request/);
    });
  });
});
