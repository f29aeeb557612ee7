/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The sweep a data scientist charts: a parent with 24 child runs logged by the real mlflow client,
// each with a 200-step history and single-value scores (the shape sklearn autolog gives a
// GridSearchCV). Charts, compare and the Plots page in chromium; screenshots in test-results/screenshots/.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { post, report, seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import math, time, mlflow
from mlflow.entities import Metric
mlflow.set_experiment("sweep")
client = mlflow.MlflowClient()
children = []
with mlflow.start_run(run_name="grid-search") as parent:
    mlflow.log_metric("best_cv_score", 0.91)
    i = 0
    for depth in (None, 3, 5, 8):
        for feats in ("sqrt", "log2", "auto"):
            for n in (50, 100):
                with mlflow.start_run(run_name=f"rf-d{depth}-{feats}-n{n}", nested=True) as c:
                    mlflow.log_params({"max_depth": depth, "max_features": feats, "n_estimators": n})
                    now = int(time.time() * 1000)
                    d = 3 if depth is None else depth
                    hist = [Metric("val_loss", math.exp(-s / (20 + 5 * d)) + 0.02 * i / 24, now + s, s) for s in range(200)]
                    client.log_batch(c.info.run_id, metrics=hist)
                    mlflow.log_metrics({"accuracy": 0.8 + 0.004 * i, "f1": 0.75 + 0.005 * i, "precision": 0.7 + 0.003 * i, "recall": 0.72 + 0.004 * i})
                    children.append(c.info.run_id)
                    i += 1
print("PARENT=" + parent.info.run_id)
print("CHILDREN=" + ",".join(children))
`;

describe('charts of a 24-run sweep in a browser (runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let browser: Browser;
  let parent: string;
  let children: string[];

  before(async () => {
    seeded = await seededServer('runlens-sweep-', SEED);
    browser = seeded.browser;
    parent = /PARENT=(\S+)/.exec(seeded.seedOutput)![1]!;
    children = /CHILDREN=(\S+)/.exec(seeded.seedOutput)![1]!.split(',');
  });

  after(async () => {
    await seeded?.close();
  });

  async function open(view: string, query: string, ready: string): Promise<{ page: Page; ms: number; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused/i.test(m.text())) errors.push(m.text());
    });
    const t0 = Date.now();
    await page.goto(`${seeded.base}/runlens/ui/${view}?${query}&theme=dark`);
    await page.waitForSelector(ready, { timeout: 60_000 });
    return { page, ms: Date.now() - t0, errors };
  }

  const charts = (page: Page) =>
    page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.chart')].map((c) => ({ key: c.dataset.key, kind: c.dataset.kind, series: Number(c.dataset.series), points: Number(c.dataset.points) })));

  it('charting the parent charts its 24 children; the stepped metric comes first, single-value ones as values', async () => {
    const { page, errors } = await open('charts', `runs=${parent}`, '.chart[data-key="val_loss"][data-rendered-at]');
    await page.waitForFunction(() => document.querySelectorAll('.chart[data-rendered-at]').length >= 4);
    const shown = await charts(page);
    assert.equal(shown[0]!.key, 'val_loss', JSON.stringify(shown));
    assert.equal(shown[0]!.kind, 'curve');
    assert.equal(shown[0]!.series, 24);
    assert.ok(shown[0]!.points >= 24 * 200, `val_loss points ${shown[0]!.points}`);
    // The single-value scores (alphabetically first, so once the only ones ticked) are compared across runs.
    const acc = shown.find((c) => c.key === 'accuracy')!;
    assert.equal(acc.kind, 'values');
    assert.equal(acc.points, 24);
    assert.match(await page.locator('h1').innerText(), /grid-search and its 24 child runs/);
    // The parent's own metric is part of the set.
    assert.ok(await page.locator('[data-metric="best_cv_score"]').count());
    assert.equal(await page.locator('.run-chip').count(), 25);
    await page.screenshot({ path: path.join(SHOTS, 'charts-sweep-parent.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('narrows the metric list with the search box and hides a run from every chart', async () => {
    const { page } = await open('charts', `runs=${parent}`, '.chart[data-key="val_loss"][data-rendered-at]');
    await page.locator('#metric-search input').fill('loss');
    const visible = await page.locator('.key-list vscode-checkbox:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));
    assert.deepEqual(visible, ['val_loss']);
    const before = Number(await page.locator('.chart[data-key="val_loss"]').getAttribute('data-rendered-at'));
    await page.locator('.run-chip').nth(1).click();
    await page.waitForFunction((t) => Number(document.querySelector<HTMLElement>('.chart[data-key="val_loss"]')?.dataset.renderedAt) > t, before);
    assert.equal((await charts(page)).find((c) => c.key === 'val_loss')!.series, 23);
    await page.close();
  });

  it('shows run, step and value on hover', async () => {
    const { page } = await open('charts', `runs=${children.slice(0, 3).join(',')}`, '.chart[data-key="val_loss"][data-rendered-at]');
    const box = (await page.locator('.chart[data-key="val_loss"] canvas').boundingBox())!;
    let tip = '';
    for (let x = box.x + 60; x < box.x + box.width - 20 && !tip; x += 15) {
      await page.mouse.move(x, box.y + box.height * 0.3);
      await page.waitForTimeout(30);
      tip = await page.evaluate(() => {
        const t = document.querySelector<HTMLElement>('.chart[data-key="val_loss"] .chart-tooltip');
        return t && !t.hidden ? (t.textContent ?? '') : '';
      });
    }
    assert.match(tip, /run rf-/);
    assert.match(tip, /step \d+/);
    assert.match(tip, /val_loss \d/);
    await page.close();
  });

  it('fills in live a chart opened on a run with no metrics yet', async () => {
    const created = (await post(seeded.base, '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'starts-empty' })) as { run: { info: { run_id: string } } };
    const id = created.run.info.run_id;
    const { page } = await open('charts', `runs=${id}`, '.chart-grid .empty');
    assert.match(await page.locator('.chart-grid .empty').innerText(), /no metrics yet/);
    for (let b = 0; b < 4; b++) {
      const metrics = Array.from({ length: 100 }, (_, i) => ({ key: 'loss', value: 1 / (1 + b * 100 + i), timestamp: Date.now(), step: b * 100 + i }));
      await post(seeded.base, '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics });
    }
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.chart[data-key="loss"]')?.dataset.points) === 400, undefined, { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelector('[data-metric="loss"]')?.getAttribute('label') === 'loss · 400 steps', undefined, { timeout: 10_000 });
    await page.screenshot({ path: path.join(SHOTS, 'charts-live-from-empty.png') });
    await page.close();
  });

  it('opens a chart panel on 5 and on 25 runs quickly (measured)', async () => {
    for (const [name, query] of [
      ['5 runs', `runs=${children.slice(0, 5).join(',')}`],
      ['the parent (25 runs)', `runs=${parent}`],
    ] as const) {
      const samples: number[] = [];
      const inPage: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { page, ms } = await open('charts', query, 'body[data-ready-ms]');
        samples.push(ms);
        inPage.push(Number(await page.evaluate(() => document.body.dataset.readyMs)));
        await page.close();
      }
      samples.sort((a, b) => a - b);
      inPage.sort((a, b) => a - b);
      report(`charts on ${name}: navigation → first chart drawn with data median ${samples[1]} ms (min ${samples[0]}, max ${samples[2]}); in-page readyMs median ${inPage[1]} ms`);
    }
  });

  it('compares the children with categorical parallel-coordinates axes for string params', async () => {
    const { page, errors } = await open('compare', `runs=${children.join(',')}`, 'body[data-rendered-at]');
    const axes = await page.locator('#parallel').getAttribute('data-axes');
    assert.match(String(axes), /param:max_depth=category/);
    assert.match(String(axes), /param:max_features=category/);
    assert.match(String(axes), /param:n_estimators=number/);
    assert.equal(await page.locator('#parallel canvas').count(), 1);
    await page.locator('#parallel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'compare-sweep-parallel.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('serves the Plots view page: the key metrics of the selection, small', async () => {
    const { page } = await open('plots', `runs=${parent}`, 'body[data-rendered-at]');
    const first = Number(await page.evaluate(() => document.body.dataset.renderedAt));
    // As narrow as a sidebar: the view redraws to its width.
    await page.setViewportSize({ width: 320, height: 700 });
    await page.waitForFunction((t) => Number(document.body.dataset.renderedAt) > t, first);
    const keys = await page.locator('.plot-small').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    // Curves only: the sweep's one stepped metric, not its single-value scores.
    assert.deepEqual(keys, ['val_loss']);
    assert.ok(Number(await page.locator('.plot-small[data-key="val_loss"] .plot').getAttribute('data-points')) >= 24 * 200);
    await page.screenshot({ path: path.join(SHOTS, 'plots-view-page.png') });
    await page.close();
  });

  it('serves the shared chunks as JavaScript under the views’ CSP', async () => {
    const html = await (await fetch(`${seeded.base}/runlens/ui/charts?runs=${parent}`)).text();
    assert.match(html, /<script type="module" nonce="[^"]+" src="\/runlens\/ui\/assets\/charts\.js">/);
    const js = await (await fetch(`${seeded.base}/runlens/ui/assets/charts.js`)).text();
    const chunk = /chunk-[A-Z0-9]+\.js/.exec(js)?.[0];
    assert.ok(chunk, 'charts.js imports a shared chunk');
    const res = await fetch(`${seeded.base}/runlens/ui/assets/${chunk}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/javascript/);
  });
});
