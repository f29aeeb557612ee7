/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The runs table's browser build against a real `runlens serve` seeded by the real mlflow client
// (nested runs) and by the REST API (a 10k-run experiment), driven in Debian's chromium.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { post, report, seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const BIG = 10_000;

const SEED = `
import mlflow
exp = mlflow.set_experiment("sweep")
with mlflow.start_run(run_name="parent"):
    mlflow.log_param("optimizer", "adam")
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        with mlflow.start_run(run_name=f"child-{i}", nested=True):
            mlflow.log_params({"lr": lr, "optimizer": "adam"})
            mlflow.log_metric("loss", [0.3, 0.1, 0.2][i])
            mlflow.set_tag("team", "vision")
print("EXP=" + exp.experiment_id)
`;



describe('runs table in a browser (runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let base: string;
  let browser: Browser;
  let sweep: string;

  before(async () => {
    seeded = await seededServer('runlens-table-', SEED);
    base = seeded.base;
    browser = seeded.browser;
    sweep = /EXP=(\S+)/.exec(seeded.seedOutput)![1]!;
  });

  after(async () => {
    await seeded?.close();
  });

  async function open(experimentIds: string[], theme = 'dark'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
    await page.goto(`${base}/runlens/ui/runs?experiments=${experimentIds.join(',')}&theme=${theme}`);
    await page.waitForFunction(() => document.body.dataset.loadMs !== undefined, undefined, { timeout: 60_000 });
    return page;
  }

  const names = (page: Page) => page.$$eval('.tr .run-link', (links) => links.map((a) => a.textContent ?? ''));
  const reloaded = async (page: Page, action: () => Promise<void>) => {
    const before = await page.evaluate(() => document.body.dataset.loadedAt);
    await action();
    await page.waitForFunction((b) => document.body.dataset.loadedAt !== b, before);
  };

  it('groups child runs under their parent and shows params, metrics and tags columns', async () => {
    const page = await open([sweep]);
    assert.deepEqual(await names(page), ['parent', '↳ child-2', '↳ child-1', '↳ child-0']);
    const headers = await page.$$eval('.th', (ths) => ths.map((t) => t.textContent ?? ''));
    assert.ok(headers.some((h) => h.includes('loss')) && headers.some((h) => h.includes('lr')));
    await page.locator('#columns').click();
    await page.locator('.chooser vscode-checkbox[data-col="tags.team"]').click();
    await page.waitForSelector('.th[data-col="tags.team"]');
    assert.equal(await page.locator('.tr[data-run] .td', { hasText: 'vision' }).count(), 3);
    await page.screenshot({ path: path.join(SHOTS, 'runs-table-dark.png') });
    await page.close();
  });

  it('sorts on the server by a metric column, both ways', async () => {
    const page = await open([sweep]);
    await page.locator('#group').click(); // flat list, so the order is the sort order
    await reloaded(page, () => page.locator('.th[data-col="metrics.loss"]').click());
    assert.deepEqual((await names(page)).slice(0, 3), ['child-0', 'child-2', 'child-1']); // 0.3, 0.2, 0.1
    assert.equal(await page.locator('.th[data-col="metrics.loss"]').getAttribute('aria-sort'), 'descending');
    await reloaded(page, () => page.locator('.th[data-col="metrics.loss"]').click());
    assert.deepEqual((await names(page)).slice(0, 3), ['child-1', 'child-2', 'child-0']);
    await page.close();
  });

  it('filters with the MLflow filter language and shows a bad filter inline', async () => {
    const page = await open([sweep]);
    await reloaded(page, async () => {
      await page.locator('#filter').click();
      await page.keyboard.type("params.lr = '0.01'");
      await page.keyboard.press('Enter');
    });
    assert.deepEqual(await names(page), ['child-1']);
    await reloaded(page, async () => {
      await page.locator('#filter').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('metrics.loss >');
      await page.keyboard.press('Enter');
    });
    assert.match(await page.locator('.filter-error').innerText(), /./);
    await page.close();
  });

  it('selects runs and opens their charts', async () => {
    const page = await open([sweep]);
    await page.locator('.tr', { hasText: 'child-0' }).locator('input[type=checkbox]').check();
    await page.locator('.tr', { hasText: 'child-1' }).locator('input[type=checkbox]').check();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#charts').click()]);
    await popup.waitForSelector('.chart[data-rendered-at]', { timeout: 30_000 });
    assert.equal(await popup.locator('.chart[data-key="loss"]').getAttribute('data-series'), '2');
    await popup.close();
    await page.close();
  });

  it('adds a run created while the table is open', async () => {
    const page = await open([sweep]);
    const before = Number(await page.evaluate(() => document.body.dataset.totalRows));
    await post(base, '/api/2.0/mlflow/runs/create', { experiment_id: sweep, run_name: 'late-arrival' });
    await page.waitForFunction((n) => Number(document.body.dataset.totalRows) === n + 1, before, { timeout: 15_000 });
    assert.ok((await names(page)).includes('late-arrival'));
    await page.close();
  });

  it('scrolls 10k runs with only the visible rows in the DOM (measured)', async () => {
    const exp = String((await post(base, '/api/2.0/mlflow/experiments/create', { name: 'ten-thousand' })).experiment_id);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < BIG) {
        const i = next++;
        const created = (await post(base, '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: `r${i}`, start_time: 1_700_000_000_000 + i })) as { run: { info: { run_id: string } } };
        await post(base, '/api/2.0/mlflow/runs/log-batch', { run_id: created.run.info.run_id, metrics: [{ key: 'loss', value: i / BIG, timestamp: 1, step: 0 }], params: [{ key: 'i', value: String(i) }] });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const samples: { first: number; all: number; wall: number }[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = Date.now();
      const page = await open([exp], k === 0 ? 'light' : 'dark');
      const wall = Date.now() - t0;
      const d = await page.evaluate(() => ({ ...document.body.dataset }));
      samples.push({ first: Number(d.firstPageMs), all: Number(d.loadMs), wall });
      assert.equal(d.totalRows, String(BIG));
      assert.ok(Number(d.renderedRows) < 100, `rendered ${d.renderedRows} rows`);
      if (k === 0) {
        await page.screenshot({ path: path.join(SHOTS, 'runs-table-10k-light.png') });
        await page.locator('.tbody').evaluate((v) => (v.scrollTop = v.scrollHeight));
        await page.waitForFunction(() => [...document.querySelectorAll('.run-link')].some((a) => a.textContent === 'r0'));
        assert.ok(Number(await page.evaluate(() => document.body.dataset.renderedRows)) < 100);
      }
      await page.close();
    }
    samples.sort((a, b) => a.all - b.all);
    const mid = samples[1]!;
    report(`runs table, 10k runs: first page (1,000 rows) drawn in ${mid.first} ms, all 10,000 loaded and drawn in ${mid.all} ms (page load to done ${mid.wall} ms); ≤ ~60 rows in the DOM at any scroll position`);
  });
});
