/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The charts view's browser build, served by a real `runlens serve` seeded by the real mlflow
// client, driven in Debian's chromium. Screenshots land in test-results/screenshots/.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { post, report, seededServer, SHOTS, type SeededServer } from '../support/browserTests';


const SEED = `
import math, mlflow
mlflow.set_experiment("charts")
ids = []
for name, lr in (("adam-lr0.01", 0.01), ("sgd-lr0.1", 0.1)):
    with mlflow.start_run(run_name=name) as r:
        for s in range(50):
            mlflow.log_metrics({"loss": math.exp(-lr * s * 3) + 0.05 * math.sin(s), "acc": 1 - math.exp(-lr * s * 2)}, step=s)
        ids.append(r.info.run_id)
print("RUN_IDS=" + ",".join(ids))
`;



describe('metric charts in a browser (runlens serve + chromium)', function () {
  this.timeout(180_000);
  let seeded: SeededServer;
  let base: string;
  let browser: Browser;
  let runIds: string[];
  const cspViolations: string[] = [];

  before(async () => {
    seeded = await seededServer('runlens-charts-', SEED);
    base = seeded.base;
    browser = seeded.browser;
    runIds = /RUN_IDS=(\S+)/.exec(seeded.seedOutput)![1]!.split(',');
  });

  after(async () => {
    await seeded?.close();
  });

  async function open(ids: string[], theme = 'dark'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${base}/runlens/ui/charts?runs=${ids.join(',')}&theme=${theme}`);
    await page.waitForSelector('.chart[data-rendered-at]', { timeout: 60_000 });
    return page;
  }

  const chartStats = (page: Page) =>
    page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>('.chart')].map((c) => [c.dataset.key, { series: Number(c.dataset.series), points: Number(c.dataset.points), at: Number(c.dataset.renderedAt) }])));

  it('draws one chart per metric with one series per run, under a strict CSP', async () => {
    const page = await open(runIds);
    const stats = await chartStats(page);
    assert.deepEqual(Object.keys(stats).sort(), ['acc', 'loss']);
    assert.equal(stats.loss!.series, 2);
    assert.equal(stats.loss!.points, 100);
    assert.equal(stats.acc!.points, 100);
    const csp = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'));
    assert.match(String(csp), /script-src 'nonce-[^']+'/);
    assert.doesNotMatch(String(csp), /unsafe-(inline|eval)/);
    await page.screenshot({ path: path.join(SHOTS, 'charts-dark.png') });
    assert.deepEqual(cspViolations, []);
    await page.close();
  });

  it('shows run, step and value on hover', async () => {
    const page = await open(runIds);
    const plot = page.locator('.chart[data-key="loss"] canvas');
    const box = (await plot.boundingBox())!;
    // Sweep across the plot until the nearest-point tooltip appears.
    let tip = '';
    for (let x = box.x + 80; x < box.x + box.width - 150 && !tip; x += 25) {
      await page.mouse.move(x, box.y + box.height / 3);
      tip = await page.evaluate(() => {
        const t = document.querySelector<HTMLElement>('.chart[data-key="loss"] .chart-tooltip');
        return t && !t.hidden ? (t.textContent ?? '') : '';
      });
    }
    assert.match(tip, /run (adam-lr0\.01|sgd-lr0\.1)/);
    assert.match(tip, /step \d+/);
    assert.match(tip, /loss -?\d/);
    await page.close();
  });

  it('smooths, switches the x axis and uses a log scale', async () => {
    const page = await open(runIds);
    const before = (await chartStats(page)).loss!.at;
    await page.locator('#smoothing').fill('0.9');
    await page.locator('#smoothing').dispatchEvent('change');
    await page.waitForFunction((t) => Number(document.querySelector<HTMLElement>('.chart[data-key="loss"]')?.dataset.renderedAt) > t, before);
    await page.locator('#log').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('state')?.includes('"logScale":true'));
    await page.waitForTimeout(300);
    const stats = await chartStats(page);
    assert.equal(stats.acc!.series, 2);
    // Log scale drops the points that are not positive (acc starts at 0; loss dips below 0).
    assert.ok(stats.acc!.points < 100 && stats.acc!.points > 90, `acc points ${stats.acc!.points}`);
    const state = JSON.parse(new URL(page.url()).searchParams.get('state')!) as { smoothing: number; logScale: boolean };
    assert.equal(state.smoothing, 0.9);
    assert.equal(state.logScale, true);
    await page.screenshot({ path: path.join(SHOTS, 'charts-smoothed-log.png') });
    await page.close();
  });

  it('draws a point logged while the chart is open', async () => {
    const page = await open(runIds);
    assert.equal((await chartStats(page)).loss!.points, 100);
    await post(base, '/api/2.0/mlflow/runs/log-metric', { run_id: runIds[0], key: 'loss', value: 0.01, timestamp: Date.now(), step: 50 });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.chart[data-key="loss"]')?.dataset.points === '101', undefined, { timeout: 10_000 });
    await page.close();
  });

  it('renders light and high-contrast themes', async () => {
    for (const theme of ['light', 'hc']) {
      const page = await open(runIds, theme);
      await page.screenshot({ path: path.join(SHOTS, `charts-${theme}.png`) });
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, theme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(0, 0, 0)');
      await page.close();
    }
  });

  it('shows a 1M-point series downsampled with its envelope (measured)', async () => {
    const run = (await post(base, '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'million' })) as { run: { info: { run_id: string } } };
    const id = run.run.info.run_id;
    for (let b = 0; b < 1000; b++) {
      const metrics = Array.from({ length: 1000 }, (_, i) => {
        const s = b * 1000 + i;
        return { key: 'loss', value: Math.exp(-s / 300_000) + (s % 9973 === 0 ? 0.5 : 0.02 * Math.sin(s / 50)), timestamp: 1_700_000_000_000 + s, step: s };
      });
      await post(base, '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics });
    }
    const samples: number[] = [];
    const inPage: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const page = await open([id]);
      samples.push(Date.now() - t0);
      inPage.push(await page.evaluate(() => `${document.body.dataset.renderMs} ms (series fetch ${document.body.dataset.fetchMs} ms)`));
      const stats = await chartStats(page);
      assert.equal(stats.loss!.series, 1);
      // A small chart asks the server for 600 buckets (the grid's charts are a few hundred pixels wide).
      assert.ok(stats.loss!.points <= 600 && stats.loss!.points > 400, `points ${stats.loss!.points}`);
      assert.match(await page.locator('.chart .note').first().innerText(), /1,000,000 points, shown as/);
      if (i === 0) await page.screenshot({ path: path.join(SHOTS, 'charts-1m-points.png') });
      await page.close();
    }
    samples.sort((a, b) => a - b);
    report(`1M-point series: page load → chart drawn median ${samples[1]} ms (min ${samples[0]}, max ${samples[2]}), server downsampling to 600 points included; in the page, fetch + draw: ${inPage.join(', ')}`);
  });

  it('answers an unknown view or asset with a clean 404', async () => {
    assert.equal((await fetch(`${base}/runlens/ui/nope`)).status, 404);
    assert.equal((await fetch(`${base}/runlens/ui/assets/..%2Fcli.js`)).status, 404);
    assert.equal((await fetch(`${base}/runlens/ui/assets/charts.map`)).status, 404);
  });
});
