/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The evaluation datasets view in a browser, against a real `runlens serve` seeded by the real
// mlflow client (mlflow.genai.datasets): the datasets list, a dataset's linked experiments,
// schema and records table, and paging through more records than one page holds.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openView, seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import mlflow
from mlflow.genai import datasets
exp = mlflow.set_experiment("evals").experiment_id
other = mlflow.create_experiment("evals-2")
ds = datasets.create_dataset(name="qa-golden", experiment_id=[exp, other], tags={"team": "search"})
ds.merge_records([{"inputs": {"question": f"q{i:03d}"}, "expectations": {"answer": f"a{i}"}} for i in range(250)])
ds.merge_records([{"inputs": {"question": "q000"}, "expectations": {"why": "first"}, "tags": {"reviewed": "yes"}}])
datasets.create_dataset(name="empty-set", experiment_id=exp)
print("EXP=" + exp)
print("DS=" + ds.dataset_id)
`;

describe('evaluation datasets view in a browser (runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let browser: Browser;
  let exp: string;
  let datasetId: string;

  before(async () => {
    seeded = await seededServer('runlens-datasets-', SEED);
    browser = seeded.browser;
    exp = /EXP=(\S+)/.exec(seeded.seedOutput)![1]!;
    datasetId = /DS=(\S+)/.exec(seeded.seedOutput)![1]!;
  });

  after(async () => {
    await seeded?.close();
  });

  const open = (url: string): Promise<Page> => openView(browser, seeded.base, url);

  it('lists the datasets and shows one with its experiments, schema and records, a page at a time', async () => {
    const page = await open(`/runlens/ui/datasets?experiments=${exp}`);
    assert.equal(await page.locator('#count').innerText(), '2 datasets');
    const names = await page.$$eval('#dataset-list .session-id', (xs) => xs.map((x) => x.textContent).sort());
    assert.deepEqual(names, ['empty-set', 'qa-golden']);
    await page.locator(`[data-dataset="${datasetId}"]`).click();
    await page.waitForSelector('#records');
    await page.waitForSelector('body[data-ready="true"]');
    const detail = await page.locator('#dataset-detail').innerText();
    assert.match(detail, /Experiments\s+evals, evals-2/);
    assert.match(detail, /Tags\s+team=search/);
    assert.match(detail, /Records\s+250/);
    assert.equal(await page.locator('#records tr[data-record]').count(), 200);
    await page.screenshot({ path: path.join(SHOTS, 'eval-datasets.png') });
    await page.locator('#more-records').click();
    await page.waitForFunction(() => document.querySelectorAll('#records tr[data-record]').length === 250);
    assert.equal(await page.locator('#more-records').count(), 0);
    // The merged record: both expectations, the user tag (mlflow.* tags left out).
    const merged = page.locator('#records tr[data-record]', { hasText: '"q000"' });
    assert.match(await merged.innerText(), /"answer":"a0".*"why":"first"/s);
    assert.match(await merged.innerText(), /"reviewed":"yes"/);
    await page.close();
  });

  it('opens straight at a dataset from the URL and says when a dataset has no records', async () => {
    const page = await open(`/runlens/ui/datasets?experiments=${exp}&dataset=${datasetId}`);
    assert.equal(await page.locator('#records tr[data-record]').count(), 200);
    await page.locator('#dataset-list .session-item', { hasText: 'empty-set' }).click();
    await page.waitForFunction(() => /No records yet/.test(document.querySelector('#dataset-detail')?.textContent ?? ''));
    await page.close();
  });
});
