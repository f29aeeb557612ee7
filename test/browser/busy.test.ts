/// <reference lib="dom" />
// Latency on a remote: the views behind a proxy that holds requests back (a slow team server) in
// front of a real `runlens serve`, in Debian's chromium. A request pending over 300 ms shows the
// progress bar (a faster one shows nothing), Cancel aborts the request on the wire and leaves the
// view usable, and a newer filter cancels the load it supersedes.
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { seededServer, type SeededServer } from '../support/browserTests';
import { until } from '../unit/helpers';
import { delayingProxy, type DelayingProxy, type ProxiedRequest } from '../support/delayingProxy';

const SEED = `
import mlflow
exp = mlflow.set_experiment("busy")
ids = []
for i, lr in enumerate((0.1, 0.01, 0.001, 0.0001, 0.5)):
    with mlflow.start_run(run_name=f"run-{i}") as r:
        mlflow.log_param("lr", lr)
        for s in range(20):
            mlflow.log_metric("loss", 1 / (s + 1) + lr, step=s)
        ids.append(r.info.run_id)

@mlflow.trace
def answer(q):
    return q.upper()

answer("hi")
mlflow.MlflowClient().create_registered_model("busy-model")
print("EXP=" + exp.experiment_id)
print("RUNS=" + ",".join(ids))
print("TRACE=" + mlflow.get_last_active_trace_id())
`;

/** The busy states the page went through, with when (performance.now()). */
interface BusyStep {
  state: string;
  at: number;
}

describe('progress and cancel on a slow server (proxy + runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let proxy: DelayingProxy;
  let exp: string;
  let runs: string[];
  let trace: string;

  before(async () => {
    seeded = await seededServer('runlens-busy-', SEED);
    exp = /EXP=(\S+)/.exec(seeded.seedOutput)![1]!;
    runs = /RUNS=(\S+)/.exec(seeded.seedOutput)![1]!.split(',');
    trace = /TRACE=(\S+)/.exec(seeded.seedOutput)![1]!;
    proxy = await delayingProxy(seeded.base);
  });

  after(async () => {
    await proxy?.close();
    await seeded?.close();
  });

  beforeEach(() => {
    proxy.delay = () => 0;
  });

  async function open(url: string, viewport = { width: 1100, height: 560 }): Promise<Page> {
    const page = await seeded.browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    (page as Page & { errors?: string[] }).errors = errors;
    await page.addInitScript(() => {
      const w = window as unknown as { busySteps: BusyStep[] };
      w.busySteps = [];
      new MutationObserver(() => {
        const s = document.body?.dataset.busy;
        if (s && s !== w.busySteps[w.busySteps.length - 1]?.state) w.busySteps.push({ state: s, at: performance.now() });
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-busy'] });
    });
    await page.goto(`${proxy.base}${url}${url.includes('?') ? '&' : '?'}theme=dark`);
    return page;
  }
  const steps = (page: Page): Promise<BusyStep[]> => page.evaluate(() => (window as unknown as { busySteps: BusyStep[] }).busySteps);
  const names = (page: Page): Promise<string[]> => page.$$eval('.tr .run-link', (links) => links.map((a) => a.textContent ?? '').sort());
  const loadedAt = (page: Page): Promise<string | undefined> => page.evaluate(() => document.body.dataset.loadedAt);
  const searches = (filter: string): ProxiedRequest[] => proxy.seen.filter((r) => r.url.includes('/runs/search') && r.body.includes(filter));

  /** Types a filter into the runs table and presses Enter; the page's clock just before. */
  async function filterRuns(page: Page, filter: string): Promise<number> {
    await page.locator('#filter').evaluate((f, v) => {
      (f as HTMLElement & { value: string }).value = v;
    }, filter);
    const t0 = await page.evaluate(() => performance.now());
    await page.locator('#filter').press('Enter');
    return t0;
  }

  async function openTable(): Promise<Page> {
    const page = await open(`/runlens/ui/runs?experiments=${exp}`);
    await page.waitForFunction(() => document.body.dataset.loadMs !== undefined, undefined, { timeout: 60_000 });
    assert.equal((await names(page)).length, 5);
    return page;
  }

  it('shows nothing for a fast request, not even one of 150 ms', async () => {
    const page = await openTable();
    proxy.delay = (r) => (r.body.includes("'0.01'") ? 150 : 0);
    const before = await loadedAt(page);
    await filterRuns(page, "params.lr = '0.01'");
    await page.waitForFunction((b) => document.body.dataset.loadedAt !== b, before);
    assert.deepEqual(await names(page), ['run-1']);
    assert.equal(searches("'0.01'").length, 1);
    assert.deepEqual(await steps(page), [], 'no progress bar for requests under 300 ms');
    assert.equal(await page.locator('#busy').getAttribute('data-state'), 'idle');
    await page.close();
  });

  it('shows the progress bar after ~300 ms, Cancel (by keyboard) aborts the request and the table stays usable', async () => {
    const page = await openTable();
    proxy.delay = (r) => (r.body.includes("'0.001'") ? 6000 : 0);
    const t0 = await filterRuns(page, "params.lr = '0.001'");
    await page.waitForSelector('#busy[data-state="loading"]', { timeout: 5000 });
    const shown = (await steps(page)).find((s) => s.state === 'loading')!;
    assert.ok(shown.at - t0 >= 290, `shown ${Math.round(shown.at - t0)} ms after Enter: not before 300 ms`);
    assert.ok(shown.at - t0 < 1500, `shown ${Math.round(shown.at - t0)} ms after Enter: soon after 300 ms`);
    assert.equal(await page.locator('#busy-label').textContent(), 'Loading runs…');
    assert.equal(await page.locator('#busy [role="progressbar"]').count(), 1);
    assert.equal(await page.locator('#app').getAttribute('aria-busy'), 'true');
    assert.ok(await page.locator('#busy-cancel').isVisible());
    // The bar is a thin line across the top in the theme's progress colour.
    const bar = await page.locator('#busy .busy-bar').evaluate((b) => {
      const r = b.getBoundingClientRect();
      return { top: r.top, height: r.height, width: r.width, color: getComputedStyle(b, '::before').backgroundColor };
    });
    assert.deepEqual({ top: bar.top, height: bar.height }, { top: 0, height: 2 });
    assert.ok(bar.width > 1000, `bar width ${bar.width}`);
    assert.equal(bar.color, 'rgb(0, 120, 212)');
    await page.waitForTimeout(400); // the sliding part away from the left edge, for the picture
    await page.screenshot({ path: '/tmp/busy-runs.png' });
    const [held] = searches("'0.001'");
    assert.ok(held && !held.aborted && !held.answered);

    // Keyboard: the Cancel button comes just before the view's content (Shift+Tab from the filter).
    await page.locator('#filter').focus();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'busy-cancel');
    await page.keyboard.press('Enter');
    await until('the held request to be closed by the browser', () => held.aborted, 3000);
    assert.equal(held.answered, false);
    await page.waitForSelector('#busy[data-state="cancelled"] #busy-note');
    assert.match((await page.locator('#busy-note').textContent()) ?? '', /cancelled/i);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'busy-note', 'focus stays in the view');
    assert.equal(await page.locator('#app').getAttribute('aria-busy'), null);
    assert.equal((await page.locator('.filter-error').textContent()) ?? '', '', 'a cancel is not an error');
    assert.equal((await names(page)).length, 5, 'the rows shown before stay');
    await page.screenshot({ path: '/tmp/busy-runs-cancelled.png' });

    // Still usable: the next filter loads (and the cancelled note goes).
    const before = await loadedAt(page);
    await filterRuns(page, "params.lr = '0.5'");
    await page.waitForFunction((b) => document.body.dataset.loadedAt !== b, before);
    assert.deepEqual(await names(page), ['run-4']);
    assert.equal(await page.locator('#busy').getAttribute('data-state'), 'idle');
    assert.deepEqual((page as Page & { errors?: string[] }).errors, []);
    await page.close();
  });

  it('a newer filter cancels the load it supersedes', async () => {
    const page = await openTable();
    proxy.delay = (r) => (r.body.includes("'0.0001'") ? 6000 : 0);
    await filterRuns(page, "params.lr = '0.0001'");
    await until('the first search to reach the server', () => searches("'0.0001'").length === 1);
    const [first] = searches("'0.0001'");
    const before = await loadedAt(page);
    await filterRuns(page, "params.lr = '0.1'");
    await page.waitForFunction((b) => document.body.dataset.loadedAt !== b, before);
    assert.deepEqual(await names(page), ['run-0']);
    await until('the superseded search to be closed by the browser', () => first!.aborted, 3000);
    assert.equal(first!.answered, false);
    assert.equal((await page.locator('.filter-error').textContent()) ?? '', '');
    await page.waitForTimeout(300);
    assert.equal(await page.locator('#busy').getAttribute('data-state'), 'idle', 'nothing left pending');
    await page.close();
  });

  it("a view's redraw reuses its answers until a change push, then asks again", async () => {
    const pair = runs.slice(0, 2);
    const listings = (): number => proxy.seen.filter((r) => r.url.includes('/artifacts/list')).length;
    const page = await open(`/runlens/ui/compare?runs=${pair.join(',')}`);
    await page.waitForFunction(() => document.body.dataset.galleryReady === '1', undefined, { timeout: 30_000 });
    const first = listings();
    assert.equal(first, 2, 'one image listing per run');
    // Another scatter axis redraws the whole view, gallery included: no request goes out again.
    for (const axis of ['metric:loss', 'param:lr']) {
      const before = await page.evaluate(() => document.body.dataset.renderedAt);
      await page.selectOption('#scatter-x', axis);
      await page.waitForFunction((b) => document.body.dataset.renderedAt !== b, before);
      await page.waitForTimeout(200);
    }
    assert.equal(listings(), first, 'redraws answered from the view cache');
    // A change push empties it: the redraw it causes asks the server again (nothing stale).
    const before = await page.evaluate(() => document.body.dataset.renderedAt);
    const res = await fetch(`${seeded.base}/api/2.0/mlflow/runs/log-metric`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ run_id: pair[0], key: 'loss', value: 9, timestamp: Date.now(), step: 99 }) });
    assert.equal(res.status, 200);
    await page.waitForFunction((b) => document.body.dataset.renderedAt !== b, before, { timeout: 15_000 });
    await page.waitForTimeout(300);
    assert.equal(listings(), first + 2, 'asked again after the push');
    assert.match((await page.locator('table.compare').textContent()) ?? '', /9/);
    await page.close();
  });

  it('every view that loads data shows the bar while a slow server answers, and hides it after', async () => {
    proxy.delay = (r) => (/\/api\/|\/runlens\/api\/(?!changes)/.test(r.url) ? 1500 : 0);
    const views: [string, string][] = [
      ['runs table', `/runlens/ui/runs?experiments=${exp}`],
      ['charts', `/runlens/ui/charts?runs=${runs.slice(0, 2).join(',')}`],
      ['compare', `/runlens/ui/compare?runs=${runs.slice(0, 2).join(',')}`],
      ['run page', `/runlens/ui/run?run=${runs[0]}`],
      ['traces', `/runlens/ui/traces?experiments=${exp}`],
      ['trace', `/runlens/ui/trace?trace=${trace}`],
      ['model', '/runlens/ui/model?name=busy-model'],
      ['datasets', `/runlens/ui/datasets?experiments=${exp}`],
      ['governance', '/runlens/ui/governance'],
    ];
    for (const [name, url] of views) {
      const page = await open(url);
      await page.waitForSelector('#busy[data-state="loading"]', { timeout: 10_000 });
      assert.match((await page.locator('#busy-label').textContent()) ?? '', /^(Loading|Counting)/, name);
      if (name === 'charts') await page.screenshot({ path: '/tmp/busy-charts.png' });
      await page.waitForSelector('#busy[data-state="idle"]', { state: 'attached', timeout: 30_000 });
      assert.equal(await page.locator('#app').getAttribute('aria-busy'), null, name);
      assert.deepEqual((page as Page & { errors?: string[] }).errors, [], name);
      await page.close();
    }
  });
});
