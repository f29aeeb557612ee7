/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The run page (artifact previews, note editing) and compare view in a browser, against a real
// `runlens serve` seeded by the real mlflow client (images, CSV, JSON, YAML, Markdown, a model).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import mlflow, numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("pages")
ids = []
for i, (lr, opt) in enumerate(((0.1, "adam"), (0.01, "adam"), (0.05, "adam"))):
    with mlflow.start_run(run_name=f"trial-{i}") as r:
        mlflow.log_params({"lr": lr, "optimizer": opt, "epochs": 10})
        for s in range(20):
            mlflow.log_metric("loss", (1.0 - 0.2 * i) / (s + 1), step=s)
        mlflow.log_metric("accuracy", [0.81, 0.93, 0.88][i])
        mlflow.set_tag("team", "vision")
        ids.append(r.info.run_id)
        if i == 0:
            mlflow.set_tag("mlflow.note.content", "# Baseline\\nFirst **try**.")
            mlflow.log_image(Image.fromarray((np.indices((64, 96)).sum(axis=0) % 2 * 255).astype("uint8")), "plots/checker.png")
            mlflow.log_text("epoch,loss,acc\\n1,0.9,0.5\\n2,0.5,0.7\\n3,0.3,0.81\\n", "metrics/history.csv")
            mlflow.log_dict({"model": {"layers": [64, 32], "dropout": 0.1}}, "config/model.json")
            mlflow.log_dict({"train": {"batch": 32, "shuffle": True}}, "config/train.yaml")
            mlflow.log_text("# Report\\n\\n- accuracy **0.81**\\n<script>alert(1)</script>\\n", "report.md")
            mlflow.log_text("step 1 ok\\nstep 2 ok\\n", "logs/train.log")
            X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
            import tempfile, os
            d = os.path.join(tempfile.mkdtemp(), "model")
            mlflow.sklearn.save_model(LogisticRegression().fit(X, y), d, input_example=X[:2])
            mlflow.log_artifacts(d, "model")  # a real MLmodel among the run's artifacts
print("RUN_IDS=" + ",".join(ids))
`;

describe('run page and compare in a browser (runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let base: string;
  let browser: Browser;
  let ids: string[];

  before(async () => {
    seeded = await seededServer('runlens-pages-', SEED);
    base = seeded.base;
    browser = seeded.browser;
    ids = /RUN_IDS=(\S+)/.exec(seeded.seedOutput)![1]!.split(',');
  });

  after(async () => {
    await seeded?.close();
  });

  async function open(url: string, ready: string, theme = 'dark'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${base}${url}&theme=${theme}`);
    await page.waitForSelector(ready, { timeout: 60_000 });
    return page;
  }

  it('shows the overview, params, metrics with sparklines, tags and the Markdown note', async () => {
    const page = await open(`/runlens/ui/run?run=${ids[0]}`, 'body[data-artifacts-listed]');
    assert.equal(await page.locator('header h1').innerText(), 'trial-0');
    assert.match(await page.locator('table.params').innerText(), /lr\s+0\.1/);
    await page.waitForSelector('.sparkline[data-key="loss"][data-points="20"]');
    assert.match(await page.locator('.note-box .markdown h1').innerText(), /Baseline/);
    assert.equal(await page.locator('.note-box .markdown strong').innerText(), 'try');
    await page.close();
  });

  it('previews an image, a CSV table, JSON and YAML trees, Markdown without its script, and the MLmodel', async () => {
    const page = await open(`/runlens/ui/run?run=${ids[0]}&artifact=plots/checker.png`, '.preview[data-kind="image"] img');
    const size = await page.locator('.preview img').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
    assert.deepEqual(size, [96, 64]);
    await page.screenshot({ path: path.join(SHOTS, 'run-page-image.png') });
    const show = async (file: string, kind: string): Promise<void> => {
      const dir = file.includes('/') ? file.split('/')[0]! : '';
      if (dir) {
        const d = page.locator('details.art-dir', { has: page.locator(`summary:text-is("${dir}/")`) });
        if (!(await d.evaluate((x: HTMLDetailsElement) => x.open))) await d.locator('summary').click();
      }
      await page.locator(`.art-file[data-path="${file}"] a`).click();
      await page.waitForSelector(`.preview[data-kind="${kind}"]`);
    };
    await show('metrics/history.csv', 'table');
    assert.deepEqual(await page.$$eval('.preview-table thead th', (ths) => ths.map((t) => t.textContent)), ['epoch', 'loss', 'acc']);
    assert.equal(await page.locator('.preview-table tbody tr').count(), 3);
    await page.screenshot({ path: path.join(SHOTS, 'run-page-csv.png') });
    await show('config/model.json', 'tree');
    assert.match(await page.locator('.preview').innerText(), /dropout: 0\.1/);
    await show('config/train.yaml', 'tree');
    assert.match(await page.locator('.preview').innerText(), /shuffle: true/);
    await show('report.md', 'markdown');
    assert.equal(await page.locator('.preview .markdown strong').innerText(), '0.81');
    assert.equal(await page.locator('.preview script').count(), 0);
    await show('logs/train.log', 'text');
    await show('model/MLmodel', 'mlmodel');
    assert.match(await page.locator('.mlmodel dl').innerText(), /Flavors\s+python_function, sklearn|Flavors\s+sklearn, python_function/);
    await page.close();
  });

  it('opens the runs table at / and a run from the link the mlflow client prints', async () => {
    const front = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(front.status, 302);
    assert.match(String(front.headers.get('location')), /^\/runlens\/ui\/runs\?experiments=/);
    const page = await browser.newPage();
    await page.goto(`${base}/#/experiments/1/runs/${ids[2]}`);
    await page.waitForSelector('body[data-artifacts-listed]');
    assert.equal(await page.locator('header h1').innerText(), 'trial-2');
    await page.close();
  });

  it('edits the note and the client reads it back', async () => {
    const page = await open(`/runlens/ui/run?run=${ids[1]}`, 'body[data-artifacts-listed]');
    await page.locator('#edit-note').click();
    await page.locator('#note-text').fill('Tried a **smaller** learning rate.');
    await page.locator('#save-note').click();
    await page.waitForSelector('.note-box .markdown strong');
    const run = (await (await fetch(`${base}/api/2.0/mlflow/runs/get?run_id=${ids[1]}`)).json()) as { run: { data: { tags: { key: string; value: string }[] } } };
    assert.equal(run.run.data.tags.find((t) => t.key === 'mlflow.note.content')?.value, 'Tried a **smaller** learning rate.');
    await page.close();
  });

  it('compares runs: differing params marked, best metric highlighted, only-differences toggle, plots', async () => {
    const page = await open(`/runlens/ui/compare?runs=${ids.join(',')}`, 'body[data-rendered-at]');
    assert.equal(await page.locator('tr[data-key="lr"]').getAttribute('class'), 'differs');
    assert.equal(await page.locator('tr[data-key="optimizer"]').getAttribute('class'), 'same');
    assert.equal(await page.locator('tr[data-key="accuracy"] td.best').innerText(), '0.93');
    assert.equal(await page.locator('tr[data-key="loss"] td.best').count(), 1);
    await page.waitForSelector('#parallel canvas');
    await page.waitForSelector('#scatter canvas');
    await page.screenshot({ path: path.join(SHOTS, 'compare-dark.png') });
    const all = Number(await page.evaluate(() => document.body.dataset.shownRows));
    await page.locator('#only-diff').click();
    await page.waitForFunction((n) => Number(document.body.dataset.shownRows) < n, all);
    assert.equal(await page.locator('tr[data-key="optimizer"]').count(), 0);
    assert.equal(await page.locator('tr[data-key="lr"]').count(), 1);
    await page.close();
    const light = await open(`/runlens/ui/compare?runs=${ids.join(',')}`, 'body[data-rendered-at]', 'light');
    await light.screenshot({ path: path.join(SHOTS, 'compare-light.png') });
    await light.close();
  });
});
