/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The views' filter boxes suggest what fits at the caret (webview/filterSuggest.ts, from the
// suggest() the language server completes with): keys of the loaded runs ranked by run count,
// values seen, prefixes, comparators; the keyboard and the mouse take an item; a typo key gets
// the did-you-mean warning because the loaded runs' keys are known.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import mlflow
exp = mlflow.set_experiment("suggest")
for i, (model, metrics) in enumerate([("rf", {"accuracy": 0.7, "val_loss": 0.5}), ("rf", {"accuracy": 0.8, "val_loss": 0.4, "f1": 0.6}),
                                      ("gbm", {"accuracy": 0.85, "val_loss": 0.3}), ("o'brien", {"accuracy": 0.9})]):
    with mlflow.start_run(run_name=f"run-{i}"):
        mlflow.log_param("model", model)
        mlflow.log_metrics(metrics)
        mlflow.set_tag("team", "vision")

@mlflow.trace
def answer(q):
    mlflow.update_current_trace(tags={"env": "prod"})
    return q.upper()

answer("hi")
print(f"EXP={exp.experiment_id}")
`;

describe('filter box suggestions in the views', function () {
  this.timeout(180_000);
  let seeded: SeededServer;
  let exp: string;
  before(async () => {
    seeded = await seededServer('runlens-suggest-', SEED);
    exp = /EXP=(\S+)/.exec(seeded.seedOutput)![1]!;
  });
  after(async () => seeded?.close());

  const list = (page: Page) => page.locator('.filter-suggest[role="listbox"]');
  const labels = (page: Page) => page.locator('.filter-suggest [role="option"] .filter-suggest-label').allInnerTexts();
  const details = (page: Page) => page.locator('.filter-suggest [role="option"] .filter-suggest-detail').allInnerTexts();
  const value = (page: Page) => page.locator('#filter').evaluate((f) => (f as HTMLElement & { value: string }).value);
  const caret = (page: Page) => page.locator('#filter').evaluate((f) => (f as HTMLElement & { wrappedElement: HTMLInputElement }).wrappedElement.selectionStart);
  const expanded = (page: Page) => page.locator('#filter').evaluate((f) => (f as HTMLElement & { wrappedElement: HTMLInputElement }).wrappedElement.getAttribute('aria-expanded'));
  const retype = async (page: Page, text: string) => {
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(text);
  };
  const shown = async (page: Page) => {
    await list(page).waitFor({ state: 'visible', timeout: 10_000 });
    return labels(page);
  };

  it('runs: keys ranked by run count, seen values quoted, keyboard and mouse, Escape, did-you-mean', async () => {
    const page = await seeded.browser.newPage({ viewport: { width: 1100, height: 560 } });
    await page.goto(`${seeded.base}/runlens/ui/runs?experiments=${exp}&theme=dark`);
    await page.waitForFunction(() => document.body.dataset.loadMs !== undefined, undefined, { timeout: 60_000 });
    await page.locator('#filter').click();
    await page.keyboard.type('metrics.');
    assert.deepEqual(await shown(page), ['accuracy', 'val_loss', 'f1']);
    const d = await details(page);
    assert.equal(d[0], '4 of 4 runs · 0.7 … 0.9');
    assert.match(d[1]!, /^3 of 4 runs/);
    assert.match(d[2]!, /^1 of 4 runs/);
    assert.equal(await expanded(page), 'true');
    await page.screenshot({ path: path.join(SHOTS, 'filter-suggest-runs.png') });

    // ArrowDown highlights the first, Enter takes it (and does not search), the caret goes after it.
    const loadedAt = await page.evaluate(() => document.body.dataset.loadedAt);
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('.filter-suggest [aria-selected="true"] .filter-suggest-label').innerText(), 'accuracy');
    await page.keyboard.press('Enter');
    assert.equal(await value(page), 'metrics.accuracy');
    assert.equal(await caret(page), 'metrics.accuracy'.length);
    await list(page).waitFor({ state: 'hidden' });
    assert.equal(await expanded(page), 'false');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => document.body.dataset.loadedAt), loadedAt, 'taking an item does not apply the filter');

    // Seen param values, most common first, quoted (a quote in a value doubled when inserted).
    await retype(page, 'params.model = ');
    const values = await shown(page);
    assert.equal(values[0], "'rf'");
    assert.deepEqual([...values].sort(), ["'gbm'", "'o'brien'", "'rf'"]);
    assert.deepEqual((await details(page))[0], '2 runs');
    const obrien = values.indexOf("'o'brien'");
    for (let i = 0; i <= obrien; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    assert.equal(await value(page), "params.model = 'o''brien'");
    // With the list closed, Enter applies the filter: one run matches.
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.dataset.totalRows === '1');

    // A prefix opens the list again for its keys; a click takes an item.
    await retype(page, 'met');
    assert.equal((await shown(page))[0], 'metrics.');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    assert.equal(await value(page), 'metrics.');
    assert.deepEqual(await shown(page), ['accuracy', 'val_loss', 'f1']);
    await page.locator('.filter-suggest [role="option"]', { hasText: 'val_loss' }).click();
    assert.equal(await value(page), 'metrics.val_loss');
    assert.equal(await caret(page), 'metrics.val_loss'.length);

    // Comparators after a key; Escape closes; Ctrl+Space opens again.
    await page.keyboard.type(' ');
    assert.deepEqual(await shown(page), ['=', '!=', '<', '<=', '>', '>=']);
    await page.keyboard.press('Escape');
    await list(page).waitFor({ state: 'hidden' });
    await page.keyboard.press('Control+Space');
    assert.deepEqual(await shown(page), ['=', '!=', '<', '<=', '>', '>=']);
    await page.keyboard.press('Escape');

    // A key no loaded run has: a warning with the nearest key, and the list does not hide it once closed.
    await retype(page, 'metrics.acuracy > 0.5 and params.modle = ');
    await page.locator('.filter-diagnostic').first().waitFor({ timeout: 10_000 });
    const lines = await page.locator('.filter-diagnostic').allInnerTexts();
    assert.ok(lines.some((l) => /metrics\.acuracy: no run of these experiments has it.*did you mean `metrics\.accuracy`/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /params\.modle: .*did you mean `params\.model`/.test(l)), lines.join('\n'));
    assert.equal(await page.locator('.filter-marked mark.filter-warning').count(), 2);
    await page.keyboard.press('Escape');
    await list(page).waitFor({ state: 'hidden' });
    const onTop = await page.locator('.filter-diagnostic').first().evaluate((el) => {
      const r = el.getBoundingClientRect();
      return el.contains(document.elementFromPoint(r.left + 10, r.top + r.height / 2));
    });
    assert.ok(onTop, 'the diagnostics are visible once the list is closed');
    await page.screenshot({ path: path.join(SHOTS, 'filter-suggest-runs-typo.png') });
    // Leaving the box closes the list too.
    await retype(page, 'metrics.');
    await shown(page);
    await page.locator('h1').click();
    await list(page).waitFor({ state: 'hidden' });
    await page.close();
  });

  it('traces: prefixes, status values and the loaded traces’ tag keys and values', async () => {
    const page = await seeded.browser.newPage({ viewport: { width: 1100, height: 560 } });
    await page.goto(`${seeded.base}/runlens/ui/traces?experiments=${exp}&theme=light`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('#count')?.textContent === '1 trace');
    await page.locator('#filter').click();
    await page.keyboard.press('Control+Space');
    const start = await shown(page);
    for (const p of ['tag.', 'metadata.', 'span.', 'status', 'execution_time_ms']) assert.ok(start.includes(p), `${p} offered: ${start.join(', ')}`);
    await page.keyboard.type('status = ');
    assert.deepEqual(await shown(page), ["'OK'", "'ERROR'", "'IN_PROGRESS'"]);
    await retype(page, 'tag.');
    assert.deepEqual(await shown(page), ['env']);
    assert.equal((await details(page))[0], '1 of 1 traces');
    await page.keyboard.press('Tab');
    assert.equal(await value(page), 'tag.env');
    await page.keyboard.type(' = ');
    assert.deepEqual(await shown(page), ["'prod'"]);
    await page.screenshot({ path: path.join(SHOTS, 'filter-suggest-traces.png') });
    await page.keyboard.press('Enter');
    await list(page).waitFor({ state: 'hidden' });
    await page.close();
  });
});
