/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Models in a browser against a real `runlens serve`: the run page's Models section and the model
// pages, for models logged by the MLflow 3 client (logged models) and the MLflow 2 client
// (a model folder among the run's artifacts).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED_V3 = `
import mlflow, numpy as np, pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("models")
X = pd.DataFrame({"sepal_length": [5.1, 4.9, 6.2, 5.9], "sepal_width": [3.5, 3.0, 2.9, 3.0]})
y = [0, 0, 1, 1]
with mlflow.start_run(run_name="train") as run:
    m = LogisticRegression().fit(X, y)
    info = mlflow.sklearn.log_model(m, name="iris", input_example=X.iloc[:2], registered_model_name="iris-clf")
    mlflow.log_metric("val_acc", 0.875, model_id=info.model_id)
    tensor = mlflow.sklearn.log_model(LogisticRegression().fit(X.to_numpy(), y), name="tensor", input_example=np.array([[1.5, 2.0], [3.0, 4.25]]))
MlflowClient().set_registered_model_alias("iris-clf", "champion", "1")
print("RUN=" + run.info.run_id + " IRIS=" + info.model_id + " TENSOR=" + tensor.model_id)
`;

const SEED_V2 = `
import mlflow, pandas as pd
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("legacy")
X = pd.DataFrame({"age": [31, 45, 22, 60], "income": [1.5, 2.5, 0.5, 3.5]})
with mlflow.start_run(run_name="v2-train") as run:
    mlflow.sklearn.log_model(LogisticRegression().fit(X, [0, 1, 0, 1]), "model", input_example=X.iloc[:2], registered_model_name="legacy-clf")
print("RUN=" + run.info.run_id + " MLFLOW=" + mlflow.__version__)
`;

async function open(browser: Browser, base: string, url: string, ready: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  await page.goto(`${base}${url}&theme=dark`);
  await page.waitForSelector(ready, { timeout: 60_000 });
  return page;
}

async function getJson(base: string, route: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${route}`);
  assert.equal(res.status, 200, route);
  return (await res.json()) as Record<string, unknown>;
}

describe('models in a browser (MLflow 3 logged models)', function () {
  this.timeout(300_000);
  let seeded: SeededServer;
  let ids: Record<string, string>;

  before(async () => {
    seeded = await seededServer('runlens-models-', SEED_V3);
    ids = Object.fromEntries([...seeded.seedOutput.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  });

  after(async () => {
    await seeded?.close();
  });

  it('shows the run\'s logged models with flavors, signature types and shapes, input example, metrics and "registered as v1"', async () => {
    const page = await open(seeded.browser, seeded.base, `/runlens/ui/run?run=${ids.RUN}`, '#run-models[data-loaded="2"]');
    const iris = page.locator(`.model-card[data-model="${ids.IRIS}"]`);
    assert.match(await iris.locator('h3').innerText(), /^iris\s/);
    assert.match(await iris.locator('.flavors').innerText(), /^python_function · sklearn$/);
    const inputs = await iris.locator('.sig-inputs tr').allInnerTexts();
    assert.deepEqual(inputs.slice(1).map((r) => r.split('\t').map((c) => c.trim())), [
      ['sepal_length', 'double', ''],
      ['sepal_width', 'double', ''],
    ]);
    assert.match(await iris.locator('.sig-outputs').innerText(), /long/);
    assert.deepEqual(await iris.locator('.input-example th').allInnerTexts(), ['sepal_length', 'sepal_width']);
    assert.match(await iris.locator('.input-example').innerText(), /5\.1\s+3\.5/);
    assert.match(await iris.locator('.model-metrics').innerText(), /val_acc\s+0\.875/);
    assert.match(await iris.locator('.registrations').innerText(), /registered as iris-clf v1\s*@champion/);
    const tensor = page.locator(`.model-card[data-model="${ids.TENSOR}"]`);
    assert.match(await tensor.locator('.sig-inputs .sig-type').innerText(), /^float64\s*tensor$/);
    assert.equal(await tensor.locator('.sig-inputs .sig-shape').innerText(), '(-1, 2)');
    assert.equal(await tensor.locator('.sig-outputs .sig-shape').innerText(), '(-1,)');
    assert.match(await tensor.locator('.sig-outputs .sig-type').innerText(), /^int64/);
    assert.match(await tensor.locator('.input-example').innerText(), /1\.5\s+2\s+3\s+4\.25/);
    assert.equal(await tensor.locator('.registrations').count(), 0);
    await page.locator('#run-models').screenshot({ path: path.join(SHOTS, 'run-page-models.png') });
    await page.close();
  });

  it('opens the version page from "registered as" and shows the lineage run → logged model → version', async () => {
    const run = await open(seeded.browser, seeded.base, `/runlens/ui/run?run=${ids.RUN}`, '#run-models[data-loaded="2"]');
    const [page] = await Promise.all([run.context().waitForEvent('page'), run.locator('a[data-version="iris-clf/1"]').click()]);
    await page.waitForSelector('#lineage', { timeout: 60_000 });
    assert.match(page.url(), /\/runlens\/ui\/model\?name=iris-clf&version=1/);
    assert.equal(await page.locator('header h1').innerText(), 'iris-clf · version 1');
    const steps = await page.locator('#lineage .lineage-step').allInnerTexts();
    assert.equal(steps.length, 3);
    assert.match(steps[0]!, /RUN\s+train\s+models · /i);
    assert.match(steps[1]!, new RegExp(`LOGGED MODEL\\s+iris\\s+${ids.IRIS}`, 'i'));
    assert.match(steps[2]!, /VERSION\s+iris-clf v1\s+@champion/i);
    assert.deepEqual(await page.locator('.model-uri').allInnerTexts(), ['models:/iris-clf/1', 'models:/iris-clf@champion']);
    assert.match(await page.locator('.model-card .sig-inputs').innerText(), /sepal_length\s+double/);
    await page.close();
    await run.close();
  });

  it('saves an edited description and tags of the version, and they reach the registry', async () => {
    const page = await open(seeded.browser, seeded.base, '/runlens/ui/model?name=iris-clf&version=1', '#lineage');
    await page.locator('#edit-description').click();
    await page.locator('#description-text').fill('Logistic regression on **iris**, trained on 4 rows.');
    await page.locator('#save-description').click();
    await page.waitForSelector('.description-box .markdown strong');
    assert.equal(await page.locator('.description-box .markdown strong').innerText(), 'iris');
    await page.locator('#tag-key').fill('reviewed_by');
    await page.locator('#tag-value').fill('alice');
    await page.locator('#add-tag').click();
    await page.waitForSelector('#tags tr[data-key="reviewed_by"]');
    const stored = (await getJson(seeded.base, '/api/2.0/mlflow/model-versions/get?name=iris-clf&version=1')).model_version as { description: string; tags: { key: string; value: string }[] };
    assert.equal(stored.description, 'Logistic regression on **iris**, trained on 4 rows.');
    assert.deepEqual(stored.tags, [{ key: 'reviewed_by', value: 'alice' }]);
    await page.screenshot({ path: path.join(SHOTS, 'model-version-page.png'), fullPage: true });
    await page.locator('#tags tr[data-key="reviewed_by"] .remove-tag').click();
    await page.waitForFunction(() => !document.querySelector('#tags tr[data-key="reviewed_by"]'));
    const after = (await getJson(seeded.base, '/api/2.0/mlflow/model-versions/get?name=iris-clf&version=1')).model_version as { tags?: unknown[] };
    assert.deepEqual(after.tags ?? [], []);
    await page.close();
  });

  it('shows the registered model page with its versions and aliases, and links to a version', async () => {
    const page = await open(seeded.browser, seeded.base, '/runlens/ui/model?name=iris-clf', '#versions');
    assert.deepEqual(
      (await page.locator('#versions tr[data-version]').allInnerTexts()).map((r) => r.split('\t').slice(0, 3).map((c) => c.trim())),
      [['v1', '', '@champion']],
    );
    await page.locator('#versions tr[data-version="1"] a').first().click();
    await page.waitForSelector('#lineage');
    assert.equal(await page.locator('header h1').innerText(), 'iris-clf · version 1');
    await page.close();
  });
});

describe('models in a browser (MLflow 2 client, model folder under the run)', function () {
  this.timeout(300_000);
  let seeded: SeededServer;
  let runId: string;

  before(async () => {
    seeded = await seededServer('runlens-models-v2-', SEED_V2, path.join(ROOT, '.venv/v2/bin/python'));
    runId = /RUN=(\S+)/.exec(seeded.seedOutput)![1]!;
    assert.match(seeded.seedOutput, /MLFLOW=2\./);
  });

  after(async () => {
    await seeded?.close();
  });

  it('shows the MLmodel of the run\'s model folder with its signature, input example and registration', async () => {
    const page = await open(seeded.browser, seeded.base, `/runlens/ui/run?run=${runId}`, '#run-models[data-loaded="1"]');
    const card = page.locator('.model-card[data-model="model"]');
    assert.match(await card.locator('.flavors').innerText(), /python_function · sklearn/);
    assert.match(await card.locator('.model-facts').innerText(), /run artifacts: model\//);
    assert.match(await card.locator('.sig-inputs').innerText(), /age\s+long[\s\S]*income\s+double/);
    assert.deepEqual(await card.locator('.input-example th').allInnerTexts(), ['age', 'income']);
    assert.match(await card.locator('.registrations').innerText(), /registered as legacy-clf v1/);
    await page.locator('#run-models').screenshot({ path: path.join(SHOTS, 'run-page-models-v2.png') });
    await page.close();
    const version = await open(seeded.browser, seeded.base, '/runlens/ui/model?name=legacy-clf&version=1', '#lineage');
    const steps = await version.locator('#lineage .lineage-step').allInnerTexts();
    assert.match(steps[0]!, /RUN\s+v2-train/i);
    assert.match(steps[1]!, /RUN ARTIFACTS\s+model\//i);
    assert.match(await version.locator('.model-card .sig-inputs').innerText(), /income\s+double/);
    await version.close();
  });
});
