/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// What a run carries besides numbers, in a browser against a real `runlens serve` seeded by the
// real mlflow client: images logged per step (gallery + step slider, run page and compare),
// dataset inputs (source, schema, profile), and traceback frames linked to the editor.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import mlflow, numpy as np, pandas as pd
from PIL import Image
mlflow.set_experiment("media")
ids = []
for r in range(2):
    with mlflow.start_run(run_name=f"vision-{r}") as run:
        for s in range(3):
            # each step a different size, so the test can tell which step is shown
            w = 16 * (s + 1) + r
            img = Image.fromarray(((np.indices((24, w)).sum(axis=0) + s) % 2 * 255).astype("uint8"))
            mlflow.log_image(img, key="samples", step=s)
        ids.append(run.info.run_id)
        if r == 0:
            df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
            mlflow.log_input(mlflow.data.from_pandas(df, source="https://example.com/train.csv", name="train"), context="training")
            mlflow.log_input(mlflow.data.from_numpy(np.zeros((5, 3)), targets=np.ones(5), name="features"), context="eval")
            mlflow.log_text('Traceback (most recent call last):\\n  File "/work/project/train.py", line 12, in <module>\\n    main()\\nValueError: bad\\n', "logs/run.log")

@mlflow.trace(span_type="CHAIN")
def failing(q):
    raise RuntimeError("model timed out")

try:
    failing("hi")
except RuntimeError:
    pass
print("RUN_IDS=" + ",".join(ids))
print("TRACE_ID=" + mlflow.get_last_active_trace_id())
`;

describe('images per step, dataset details and traceback links in a browser (runlens serve + chromium)', function () {
  this.timeout(240_000);
  let seeded: SeededServer;
  let browser: Browser;
  let ids: string[];
  let traceId: string;

  before(async () => {
    seeded = await seededServer('runlens-media-', SEED);
    browser = seeded.browser;
    ids = /RUN_IDS=(\S+)/.exec(seeded.seedOutput)![1]!.split(',');
    traceId = /TRACE_ID=(\S+)/.exec(seeded.seedOutput)![1]!;
  });

  after(async () => {
    await seeded?.close();
  });

  async function open(url: string, ready: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    await page.goto(`${seeded.base}${url}&theme=dark`);
    await page.waitForSelector(ready, { timeout: 60_000 });
    return page;
  }

  /** The shown image's width per cell, once every cell shows the image of `step`. */
  async function widthsAt(page: Page, step: number, cells: number): Promise<number[]> {
    await page.waitForFunction(
      ([s, n]) => {
        const card = document.querySelector<HTMLElement>('.gallery-card[data-key="samples"]');
        const imgs = [...document.querySelectorAll<HTMLImageElement>('.gallery-card[data-key="samples"] img')];
        return card?.dataset.step === String(s) && imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0 && i.dataset.path?.includes(`+step+${s}+`));
      },
      [step, cells] as const,
      { timeout: 20_000 },
    );
    // The compressed thumbnail is scaled (to 256 px wide here) but keeps the aspect: the logged width at height 24.
    return page.locator('.gallery-card[data-key="samples"] img').evaluateAll((imgs) => imgs.map((i) => Math.round((24 * (i as HTMLImageElement).naturalWidth) / (i as HTMLImageElement).naturalHeight)));
  }

  async function slide(page: Page, index: number): Promise<void> {
    await page.locator('.gallery-card[data-key="samples"] input.gallery-slider').evaluate((input, i) => {
      (input as HTMLInputElement).value = String(i);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, index);
  }

  it('run page: a gallery per image key with a step slider over the 3 logged steps', async () => {
    const page = await open(`/runlens/ui/run?run=${ids[0]}`, '.gallery-card[data-key="samples"]');
    const slider = page.locator('.gallery-card[data-key="samples"] input.gallery-slider');
    assert.deepEqual(await slider.evaluate((i) => [(i as HTMLInputElement).min, (i as HTMLInputElement).max, (i as HTMLInputElement).value]), ['0', '2', '2'], 'three steps, the latest shown first');
    assert.deepEqual(await widthsAt(page, 2, 1), [48]);
    assert.match(await page.locator('.gallery-step').innerText(), /step 2 \(3 of 3\)/);
    await slide(page, 0);
    assert.deepEqual(await widthsAt(page, 0, 1), [16], 'moving the slider shows step 0');
    await page.locator('#image-gallery').screenshot({ path: path.join(SHOTS, 'run-page-image-gallery.png') });
    await slide(page, 1);
    assert.deepEqual(await widthsAt(page, 1, 1), [32]);
    await page.close();
  });

  it("compare: one slider moves every run's image to the same step", async () => {
    const page = await open(`/runlens/ui/compare?runs=${ids.join(',')}`, '.gallery-card[data-key="samples"]');
    assert.deepEqual(await widthsAt(page, 2, 2), [48, 49]);
    await slide(page, 0);
    assert.deepEqual(await widthsAt(page, 0, 2), [16, 17]);
    await page.locator('#image-gallery').screenshot({ path: path.join(SHOTS, 'compare-image-gallery.png') });
    await page.close();
  });

  it('run page: dataset inputs show source, schema and profile, not only a digest', async () => {
    const page = await open(`/runlens/ui/run?run=${ids[0]}`, '.datasets .dataset[data-name="train"]');
    const train = page.locator('.dataset[data-name="train"]');
    assert.match(await train.locator('summary').innerText(), /train\s+digest \w+ · training/);
    assert.equal(await train.locator('.source-type').innerText(), 'http');
    assert.equal(await train.locator('.source-uri').innerText(), 'https://example.com/train.csv');
    const schema = await train.locator('table.dataset-schema tr').evaluateAll((rows) => rows.slice(1).map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((c) => c.textContent)));
    assert.deepEqual(schema, [['a', 'double'], ['b', 'string']]);
    assert.match(await train.locator('table.dataset-profile').innerText(), /num_rows\s+3[\s\S]*num_elements\s+6/);
    const features = page.locator('.dataset[data-name="features"]');
    assert.equal(await features.locator('.source-type').innerText(), 'code');
    const tensors = await features.locator('table.dataset-schema').innerText();
    assert.match(tensors, /features\s+float64 \[-1, 3\]/);
    assert.match(tensors, /targets\s+float64 \[-1\]/);
    assert.match(await features.locator('table.dataset-profile').innerText(), /features_shape\s+\[5, 3\]/);
    await page.locator('.datasets').screenshot({ path: path.join(SHOTS, 'run-page-datasets.png') });
    await page.close();
  });

  it('traceback frames link to the editor: span exceptions and text artifacts (vscode:// in a browser)', async () => {
    const log = await open(`/runlens/ui/run?run=${ids[0]}&artifact=logs/run.log`, '.preview[data-kind="text"]');
    const link = log.locator('.preview a.source-link');
    assert.equal(await link.count(), 1);
    assert.deepEqual(await link.evaluate((a) => [a.textContent, (a as HTMLElement).dataset.path, (a as HTMLElement).dataset.line, a.getAttribute('href')]), [
      'File "/work/project/train.py", line 12',
      '/work/project/train.py',
      '12',
      'vscode://file/work/project/train.py:12',
    ]);
    assert.match(await log.locator('.preview pre').innerText(), /ValueError: bad/, 'the rest of the text is kept');
    await log.close();
    const trace = await open(`/runlens/ui/trace?trace=${traceId}`, '.exception pre.stack');
    const frames = await trace.locator('.exception pre.stack a.source-link').evaluateAll((as) => as.map((a) => [(a as HTMLElement).dataset.path, (a as HTMLElement).dataset.line]));
    assert.ok(frames.some(([p, l]) => p?.endsWith('seed.py') && Number(l) > 0), JSON.stringify(frames));
    await trace.close();
  });
});
