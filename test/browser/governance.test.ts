/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The Governance view in a browser, against a real `runlens serve --governance FILE` seeded by the
// real mlflow client: three teams and two customers, a warn budget that is exceeded, an enforced
// budget that refuses writes, and a required-tag policy a run breaks. The view's numbers are
// checked against the summary REST API, its violation links against the violations API, and the
// audit table's filter and paging against the audit API.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openView, post, seededServer, SHOTS, type SeededServer } from '../support/browserTests';
import { runlensServe, type ServeProcess } from '../support/runlensServe';

const GOVERNANCE = `
defaults: {project: churn}
budgets:
  - {name: ml-daily, scope: {team: ml}, daily_usd: 0.002, mode: warn}
  - {name: vision-cap, scope: {team: vision}, daily_usd: 0.0015, mode: enforce}
  - {name: acme-monthly, scope: {customer_id: acme}, monthly_usd: 0.05, mode: warn}
policies:
  require_tags: {tags: [owner], mode: warn}
`;

const SEED = `
import mlflow
from mlflow.exceptions import MlflowException

exp = mlflow.set_experiment("churn-model").experiment_id
# Team ml: two customers, a few runs each, enough calls to pass the warn budget.
for customer in ["acme", "acme", "globex"]:
    with mlflow.start_run(tags={"genops.team": "ml", "genops.customer_id": customer, "owner": "ana"}) as run:
        for step in range(12):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        print("ML_RUN=" + run.info.run_id)
# A run without the required owner tag: marked when it ends.
with mlflow.start_run(run_name="untagged", tags={"genops.team": "nlp", "genops.customer_id": "globex"}) as run:
    mlflow.log_param("lr", 0.1)
    print("UNTAGGED=" + run.info.run_id)
# Team vision logs until its enforced budget refuses.
vexp = mlflow.set_experiment("vision").experiment_id
refused = ""
with mlflow.start_run(run_name="resnet", tags={"genops.team": "vision", "genops.customer_id": "acme", "owner": "bo"}) as run:
    print("VISION_RUN=" + run.info.run_id)
    try:
        for step in range(40):
            mlflow.log_metric("acc", step / 40, step=step)
    except MlflowException as e:
        refused = str(e).splitlines()[0]
print("REFUSED=" + refused)
print("EXP=" + exp)
`;

interface Summary {
  rows: { key: string; cost_usd: number; cost: string }[];
  total_usd: number;
  total: string;
}

describe('governance view in a browser (runlens serve --governance + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let base: string;
  let browser: Browser;
  let out: string;

  const api = async <T>(route: string): Promise<T> => {
    const res = await fetch(`${base}${route}`);
    assert.equal(res.status, 200, `${route}: ${res.status}`);
    return (await res.json()) as T;
  };
  const today = (): string => new Date().toISOString().slice(0, 10);
  const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-gov-cfg-'));
    const file = path.join(dir, 'governance.yaml');
    fs.writeFileSync(file, GOVERNANCE);
    seeded = await seededServer('runlens-governance-', SEED, undefined, ['--governance', file]);
    base = seeded.base;
    browser = seeded.browser;
    out = seeded.seedOutput;
  });

  after(async () => {
    await seeded?.close();
  });

  async function open(url: string, theme = 'dark'): Promise<Page> {
    const page = await openView(browser, base, url, theme);
    await page.waitForSelector('body[data-audit-ready="true"]', { timeout: 60_000 }).catch(() => undefined);
    return page;
  }

  it('the seed hit the enforced budget and the client saw its name', () => {
    assert.match(out, /REFUSED=.*Budget 'vision-cap' is exhausted/);
  });

  it('shows the period’s total and per-team spend exactly as the summary API, and the spend chart', async () => {
    const page = await open('/runlens/ui/governance');
    const summary = await api<Summary>(`/runlens/api/governance/summary?group_by=team&since=${daysAgo(29)}&until=${today()}`);
    assert.ok(summary.total_usd > 0);
    assert.equal(Number(await page.locator('#total').getAttribute('data-usd')), summary.total_usd);
    assert.equal(await page.locator('#total').getAttribute('title'), summary.total);
    const cards = await page.$$eval('.group-card', (xs) => xs.map((x) => [x.getAttribute('data-key'), Number(x.querySelector('.value')!.getAttribute('data-usd'))]));
    assert.deepEqual(cards, summary.rows.map((r) => [r.key, r.cost_usd]));
    assert.deepEqual(cards.map((c) => c[0]).sort(), ['(unattributed)', 'ml', 'nlp', 'vision']); // creating the experiments is attributed to no one
    assert.equal(await page.locator('#spend-chart canvas').count(), 1);
    // One burn-down per budget, each with its chart; the exceeded ones say so.
    assert.equal(await page.locator('.budget .burn-chart canvas').count(), 3);
    assert.equal(await page.locator('.budget[data-budget="ml-daily"] .state-exceeded').count(), 1);
    assert.equal(await page.locator('.budget[data-budget="vision-cap"] .mode-enforce').count(), 1);
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, 'governance-view.png'), fullPage: true });

    // By customer: the same total, split by customer.
    await page.selectOption('#group-by', 'customer_id');
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.querySelector('h2')?.textContent?.includes('customer'));
    const byCustomer = await api<Summary>(`/runlens/api/governance/summary?group_by=customer_id&since=${daysAgo(29)}&until=${today()}`);
    const customerCards = await page.$$eval('.group-card', (xs) => xs.map((x) => x.getAttribute('data-key')));
    assert.deepEqual(customerCards, byCustomer.rows.map((r) => r.key));
    assert.equal(Number(await page.locator('#total').getAttribute('data-usd')), byCustomer.total_usd);
    await page.close();
    const light = await open('/runlens/ui/governance?group_by=project&days=7', 'light');
    assert.deepEqual(await light.$$eval('.group-card', (xs) => xs.map((x) => x.getAttribute('data-key'))), ['churn']); // the defaults give every operation a project
    await light.screenshot({ path: path.join(SHOTS, 'governance-view-light.png') });
    await light.close();
  });

  it('lists top runs and violations with links that open the run page', async () => {
    const page = await open('/runlens/ui/governance');
    const byRun = await api<Summary>(`/runlens/api/governance/summary?group_by=run&since=${daysAgo(29)}&until=${today()}`);
    const topIds = await page.$$eval('#top-runs a.run-link', (xs) => xs.map((x) => x.getAttribute('data-id')));
    assert.deepEqual(topIds, byRun.rows.filter((r) => r.key !== '(none)').slice(0, 10).map((r) => r.key));
    const { violations } = await api<{ violations: { kind: string; run_id?: string; refused: boolean }[] }>('/runlens/api/governance/violations');
    const untagged = /UNTAGGED=(\S+)/.exec(out)![1]!;
    const vision = /VISION_RUN=(\S+)/.exec(out)![1]!;
    assert.ok(violations.some((v) => v.kind === 'require_tags' && v.run_id === untagged));
    assert.ok(violations.some((v) => v.kind === 'budget' && v.refused && v.run_id === vision));
    const rows = await page.$$eval('#violations tbody tr', (trs) => trs.map((tr) => [tr.children[1]!.textContent, tr.querySelector('a.run-link')?.getAttribute('data-id') ?? null]));
    assert.deepEqual(rows, violations.map((v) => [v.kind, v.run_id ?? null]));
    // The untagged run's link opens its run page (a new tab in a browser).
    const [popup] = await Promise.all([page.context().waitForEvent('page'), page.locator(`#violations a.run-link[data-id="${untagged}"]`).first().click()]);
    await popup.waitForLoadState();
    assert.match(popup.url(), new RegExp(`/runlens/ui/run\\?run=${untagged}`));
    await popup.waitForSelector('h1');
    assert.equal(await popup.locator('h1').innerText(), 'untagged');
    await popup.close();
    await page.close();
  });

  it('filters the audit log by outcome, operation and run, and pages newest first', async () => {
    const page = await open('/runlens/ui/governance');
    type Entries = { entries: { seq: number; op: string; outcome: string; target: { run_id?: string } }[] };
    const all = await api<Entries>('/runlens/api/governance/audit?limit=10000');
    assert.ok(all.entries.length > 50, `enough entries to page (${all.entries.length})`);
    const seqs = async (): Promise<number[]> => page.$$eval('table.audit tbody tr', (trs) => trs.map((tr) => Number(tr.children[0]!.textContent)));
    assert.deepEqual(await seqs(), all.entries.slice(0, 50).map((e) => e.seq));
    await page.locator('#audit-older').click();
    await page.waitForFunction(() => document.body.dataset.auditReady === 'true' && /entries 51–/.test(document.querySelector('#audit-count')?.textContent ?? ''));
    assert.deepEqual(await seqs(), all.entries.slice(50, 100).map((e) => e.seq));
    await page.locator('#audit-newer').click();
    await page.waitForFunction(() => document.body.dataset.auditReady === 'true' && /entries 1–/.test(document.querySelector('#audit-count')?.textContent ?? ''));

    const filterTo = async (text: string): Promise<void> => {
      await page.locator('#audit-filter input').fill(text);
      await page.waitForFunction((t) => document.body.dataset.auditReady === 'true' && (document.querySelector('#audit-filter') as HTMLInputElement & { value: string }).value === t, text);
      await page.waitForTimeout(400); // the box waits 250 ms after typing before it asks
      await page.waitForFunction(() => document.body.dataset.auditReady === 'true');
    };
    await filterTo('outcome:refused');
    const refused = all.entries.filter((e) => e.outcome === 'refused');
    assert.ok(refused.length >= 1);
    assert.deepEqual(await seqs(), refused.slice(0, 50).map((e) => e.seq));
    await filterTo('op:createRun');
    assert.deepEqual(await seqs(), all.entries.filter((e) => e.op === 'createRun').map((e) => e.seq));
    const untagged = /UNTAGGED=(\S+)/.exec(out)![1]!;
    await filterTo(untagged);
    const ofRun = all.entries.filter((e) => e.target.run_id === untagged);
    assert.ok(ofRun.length >= 2);
    assert.deepEqual(await seqs(), ofRun.map((e) => e.seq));
    await filterTo('color:red');
    assert.match(await page.locator('#audit-error').innerText(), /Unknown filter 'color:'/);
    await page.close();
  });

  it('the run page shows the run’s cost and genops attribution from run-cost', async () => {
    const runId = /ML_RUN=(\S+)/.exec(out)![1]!;
    const cost = await api<{ cost_usd: number; cost: string; attribution: Record<string, string> }>(`/runlens/api/governance/run-cost?run_id=${runId}`);
    assert.ok(cost.cost_usd > 0);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${base}/runlens/ui/run?run=${runId}&theme=dark`);
    await page.waitForSelector('body[data-cost-ready="true"]', { timeout: 60_000 });
    const rows = await page.$$eval('#run-cost table.kv tr', (trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]));
    assert.deepEqual(rows, [['Cost', `$${cost.cost_usd}`], ...Object.entries(cost.attribution).sort(([a], [b]) => a.localeCompare(b))]);
    assert.deepEqual(Object.fromEntries(rows.slice(1)), { customer_id: 'acme', project: 'churn', team: 'ml' });
    assert.equal(await page.locator('#run-cost .num').getAttribute('title'), cost.cost);
    await page.locator('#run-cost').screenshot({ path: path.join(SHOTS, 'governance-run-cost.png') });
    await page.close();
  });

  it('says how to turn governance on when the server has none', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-gov-off-'));
    const plain: ServeProcess = runlensServe(root);
    try {
      const url = await plain.url;
      const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
      await page.goto(`${url}/runlens/ui/governance?theme=light`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      const text = await page.locator('#governance-off').innerText();
      assert.match(text, /Governance is off/);
      assert.match(text, /\.runlens\/governance\.yaml/);
      assert.match(text, /runlens serve --governance/);
      await page.screenshot({ path: path.join(SHOTS, 'governance-off.png') });
      // The run page of an ungoverned store has no cost section.
      const run = (await post(url, '/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: Date.now() })) as { run: { info: { run_id: string } } };
      await page.goto(`${url}/runlens/ui/run?run=${run.run.info.run_id}&theme=light`);
      await page.waitForSelector('body[data-cost-ready="true"]', { timeout: 60_000 });
      assert.equal(await page.locator('#run-cost').isHidden(), true);
      await page.close();
    } finally {
      plain.stop();
    }
  });
});
