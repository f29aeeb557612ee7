/// <reference lib="dom" />
// A real chromium page on another origin attacks a real `runlens serve`: auto-submitted forms,
// no-cors fetches, a CORS fetch, framing the UI, and a file:// page. After each attempt the run
// and the experiment must be exactly as they were (checked over REST). Two servers: one as
// shipped (the foreign Origin alone is refused, 403) and one that allows the attacker's origin
// (--allowed-origin), where the content-type rules alone must hold (400). A positive control
// deletes a run through that second server with a proper CORS JSON fetch, proving that a
// deletion from the page would be seen.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
import { runlensServe, type ServeProcess } from '../support/runlensServe';

const A = '/api/2.0/mlflow';

async function rest(base: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<Record<string, unknown>> {
  const init: RequestInit = method === 'POST' ? { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) } : { method };
  const res = await fetch(`${base}${route}`, init);
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Victim {
  name: string;
  serve: ServeProcess;
  base: string;
  experimentId: string;
  runId: string;
  /** What a refused attack is answered with: 403 (foreign origin) or 400 (content type). */
  refusal: number;
}

async function victim(name: string, refusal: number, extraArgs: string[]): Promise<Victim> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `runlens-xsite-${name}-`));
  const serve = runlensServe(root, extraArgs);
  const base = await serve.url;
  const exp = await rest(base, 'POST', `${A}/experiments/create`, { name: 'target' });
  const experimentId = String(exp.experiment_id);
  const run = await rest(base, 'POST', `${A}/runs/create`, { experiment_id: experimentId, run_name: 'precious' });
  const runId = (run.run as { info: { run_id: string } }).info.run_id;
  return { name, serve, base, experimentId, runId, refusal };
}

async function assertUnchanged(v: Victim): Promise<void> {
  const run = await rest(v.base, 'GET', `${A}/runs/get?run_id=${v.runId}`);
  assert.equal((run.run as { info: { lifecycle_stage: string } }).info.lifecycle_stage, 'active', `${v.name}: the run is still active`);
  const exp = await rest(v.base, 'GET', `${A}/experiments/get?experiment_id=${v.experimentId}`);
  assert.equal((exp.experiment as { lifecycle_stage: string }).lifecycle_stage, 'active', `${v.name}: the experiment is still there`);
}

/** The attacker's pages: a form that submits itself, or a page that frames a URL. */
function attackerPage(url: URL): string {
  const target = url.searchParams.get('target') ?? '';
  const run = url.searchParams.get('run') ?? '';
  const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  switch (url.pathname) {
    case '/form-text':
      // The classic JSON-over-text/plain form: the body is `{"run_id":"…","x":"="}`.
      return `<form id=f method=post enctype=text/plain action="${attr(`${target}${A}/runs/delete`)}"><input name="${attr(`{"run_id":"${run}","x":"`)}" value='"}'></form><script>f.submit()</script>`;
    case '/form-empty':
      // No inputs: an empty text/plain body, the fields only in the action's query string.
      return `<form id=f method=post enctype=text/plain action="${attr(`${target}${A}/runs/delete?run_id=${run}`)}"></form><script>f.submit()</script>`;
    case '/form-urlencoded':
      return `<form id=f method=post action="${attr(`${target}${A}/runs/delete?run_id=${run}`)}"><input name=run_id value="${attr(run)}"></form><script>f.submit()</script>`;
    case '/frame':
      return `<iframe id=victim src="${attr(url.searchParams.get('src') ?? '')}" width=800 height=600></iframe>`;
    default:
      // Looks like a rendered view to the frame check below (a control that the check can see one).
      return '<title>attacker</title><script id=runlens-state type=application/json>{}</script><p id=own>the attacker’s own page</p>';
  }
}

describe('cross-site attacks from a real chromium page (runlens serve)', function () {
  this.timeout(60_000);
  let attacker: http.Server;
  let attackerOrigin: string;
  let strict: Victim;
  let lenient: Victim;
  let browser: Browser;
  let page: Page;
  let tmp: string;

  before(async () => {
    attacker = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://attacker');
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(attackerPage(url));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    [strict, lenient] = await Promise.all([victim('strict', 403, []), victim('lenient', 400, ['--allowed-origin', attackerOrigin])]);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-extensions', '--no-first-run'],
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-xsite-file-'));
  });

  after(async () => {
    await browser?.close();
    strict?.serve.stop();
    lenient?.serve.stop();
    await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  });

  beforeEach(async () => {
    page = await browser.newPage();
  });
  afterEach(async () => {
    await page.close();
  });

  /** The victim server's answer to the next request the page makes to it. */
  function answerFrom(v: Victim, pathPrefix: string, method = 'POST'): Promise<Response> {
    return page.waitForResponse((r) => r.request().method() === method && r.url().startsWith(`${v.base}${pathPrefix}`), { timeout: 15_000 });
  }

  async function submitForm(v: Victim, kind: 'form-text' | 'form-empty' | 'form-urlencoded'): Promise<void> {
    const answer = answerFrom(v, `${A}/runs/delete`);
    await page.goto(`${attackerOrigin}/${kind}?target=${encodeURIComponent(v.base)}&run=${v.runId}`);
    const res = await answer;
    assert.equal(res.status(), v.refusal, `${v.name}: ${kind} answered ${res.status()} ${await res.text().catch(() => '')}`);
    await assertUnchanged(v);
  }

  /** Runs `fetch(url, init)` in the page; resolves to 'sent' or the error the page saw. */
  function pageFetch(url: string, init: RequestInit): Promise<string> {
    return page.evaluate(
      async ([u, i]) => {
        try {
          await fetch(u, i);
          return 'sent';
        } catch (err) {
          return `refused: ${(err as Error).message}`;
        }
      },
      [url, init] as const,
    );
  }

  async function noCors(v: Victim, route: string, body?: string): Promise<void> {
    const answer = answerFrom(v, route.split('?')[0]!);
    const outcome = await pageFetch(`${v.base}${route}`, { method: 'POST', mode: 'no-cors', ...(body !== undefined ? { body, headers: { 'Content-Type': 'text/plain' } } : {}) });
    assert.equal(outcome, 'sent', 'a no-cors fetch resolves (opaquely) whatever the server answers');
    const res = await answer;
    assert.equal(res.status(), v.refusal, `${v.name}: no-cors POST ${route} answered ${res.status()}`);
    await assertUnchanged(v);
  }

  for (const which of ['strict', 'lenient'] as const) {
    const v = (): Victim => (which === 'strict' ? strict : lenient);
    const why = which === 'strict' ? 'foreign origin: 403' : 'origin allowed, content type refused: 400';

    it(`${which} (${why}): an auto-submitted <form enctype=text/plain> can't delete the run`, async () => {
      await submitForm(v(), 'form-text');
    });

    it(`${which} (${why}): an auto-submitted empty text/plain form with the run id in its action's query can't delete the run`, async () => {
      await submitForm(v(), 'form-empty');
    });

    it(`${which} (${why}): an auto-submitted form-urlencoded form can't delete the run`, async () => {
      await submitForm(v(), 'form-urlencoded');
    });

    it(`${which} (${why}): no-cors fetches with fields in the query string or a text/plain body can't delete the run or the experiment`, async () => {
      await page.goto(`${attackerOrigin}/`);
      const target = v();
      await noCors(target, `${A}/runs/delete?run_id=${target.runId}`);
      await noCors(target, `${A}/experiments/delete?experiment_id=${target.experimentId}`);
      await noCors(target, `${A}/runs/delete`, JSON.stringify({ run_id: target.runId }));
      await noCors(target, `${A}/experiments/delete`, JSON.stringify({ experiment_id: target.experimentId }));
    });
  }

  it('strict: a CORS JSON fetch is stopped at the preflight (no CORS for foreign origins)', async () => {
    await page.goto(`${attackerOrigin}/`);
    for (const [method, route, body] of [
      ['POST', `${A}/runs/delete`, { run_id: strict.runId }],
      ['DELETE', `/api/2.0/mlflow-artifacts/artifacts/${strict.experimentId}`, undefined],
    ] as const) {
      const outcome = await pageFetch(`${strict.base}${route}`, { method, headers: { 'Content-Type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      assert.match(outcome, /^refused:/, `${method} ${route}: ${outcome}`);
    }
    await assertUnchanged(strict);
  });

  it('strict: a file:// page (Origin: null) can neither fetch nor post', async () => {
    const file = path.join(tmp, 'attack.html');
    fs.writeFileSync(file, '<title>local file</title>');
    await page.goto(pathToFileURL(file).href);
    const answer = answerFrom(strict, `${A}/runs/delete`);
    const noCorsOutcome = await pageFetch(`${strict.base}${A}/runs/delete?run_id=${strict.runId}`, { method: 'POST', mode: 'no-cors', body: JSON.stringify({ run_id: strict.runId }), headers: { 'Content-Type': 'text/plain' } });
    assert.equal(noCorsOutcome, 'sent');
    const res = await answer;
    assert.equal(res.status(), 403);
    // Chromium sends Origin: null (and Sec-Fetch-Site: cross-site) from file:// pages; either is refused.
    const corsOutcome = await pageFetch(`${strict.base}${A}/runs/delete`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ run_id: strict.runId }) });
    assert.match(corsOutcome, /^refused:/);
    await assertUnchanged(strict);
  });

  it('strict: the UI does not render inside another site’s <iframe> (X-Frame-Options), while the attacker’s own page does', async () => {
    const src = `${strict.base}/runlens/ui/runs?experiments=${strict.experimentId}`;
    const answer = answerFrom(strict, '/runlens/ui/runs', 'GET');
    await page.goto(`${attackerOrigin}/frame?src=${encodeURIComponent(src)}`);
    const res = await answer;
    assert.equal(res.status(), 200, 'the page was fetched…');
    assert.equal(res.headers()['x-frame-options'], 'DENY');
    assert.match(res.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    await page.waitForLoadState('load');
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    assert.ok(frame, 'the iframe exists');
    // …but not rendered: Chromium shows its own error document in the frame instead.
    await page.waitForTimeout(300);
    const renderedView = (f: typeof frame): Promise<boolean> =>
      f.evaluate(() => document.getElementById('runlens-state') !== null || document.querySelector('script[src*="/runlens/ui/assets/"]') !== null).catch(() => false);
    assert.equal(await renderedView(frame), false, `the UI rendered in a foreign frame (${frame.url()})`);
    // Control: the same check sees a page of yet another origin (localhost vs 127.0.0.1) that may render in the frame.
    const third = attackerOrigin.replace('127.0.0.1', 'localhost');
    await page.goto(`${attackerOrigin}/frame?src=${encodeURIComponent(`${third}/own`)}`);
    await page.waitForLoadState('load');
    const other = page.frames().find((f) => f !== page.mainFrame())!;
    await other.waitForSelector('#own', { timeout: 5_000 });
    assert.equal(await renderedView(other), true, 'the frame check sees a cross-origin frame that rendered');
    await assertUnchanged(strict);
  });

  it('control: from an allowed origin a proper CORS JSON fetch does delete a run, and the check above would see it', async () => {
    const created = await rest(lenient.base, 'POST', `${A}/runs/create`, { experiment_id: lenient.experimentId, run_name: 'expendable' });
    const runId = (created.run as { info: { run_id: string } }).info.run_id;
    await page.goto(`${attackerOrigin}/`);
    const answer = answerFrom(lenient, `${A}/runs/delete`);
    const outcome = await pageFetch(`${lenient.base}${A}/runs/delete`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ run_id: runId }) });
    assert.equal(outcome, 'sent');
    assert.equal((await answer).status(), 200);
    const run = await rest(lenient.base, 'GET', `${A}/runs/get?run_id=${runId}`);
    assert.equal((run.run as { info: { lifecycle_stage: string } }).info.lifecycle_stage, 'deleted');
    await assertUnchanged(lenient);
  });
});
